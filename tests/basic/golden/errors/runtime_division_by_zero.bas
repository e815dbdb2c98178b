x = 1
y = x / 0
' expect error: [runtime_division_by_zero.bas:2:1] Error: division by zero
