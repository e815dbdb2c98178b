x = "abc"
y = x * 2
' expect error: [runtime_non_number_in_arithmetic.bas:2:1] Error: "abc" is not a number
