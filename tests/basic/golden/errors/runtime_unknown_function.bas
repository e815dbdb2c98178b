x = 1
y = FROB(x)
' expect error: [runtime_unknown_function.bas:2:1] Error: unknown function FROB
