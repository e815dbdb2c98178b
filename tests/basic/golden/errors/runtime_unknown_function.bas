' A call of a function gb does not know parses and fails when executed, naming it (like a keyword).
x = 1
y = FROB(x)
' expect error: [runtime_unknown_function.bas:3:1] Error: function FROB is not supported (line 3)