' ABS ROUND INT FIX CEIL FLOOR SQR SQRT (MOD as a function: mod_function.bas).
TALK ABS(-5)
TALK ABS(2.5)
TALK ROUND(2.5)
TALK ROUND(-2.5)
TALK ROUND(3.14159, 2)
TALK ROUND(2.675, 2)
TALK INT(3.7)
TALK INT(-3.7)
TALK FIX(-3.7)
TALK CEIL(3.2)
TALK FLOOR(3.8)
TALK SQR(16)
TALK SQRT(2) > 1.414
' expect: 5
' expect: 2.5
' expect: 3
' expect: -3
' expect: 3.14
' expect: 2.68
' expect: 3
' expect: -4
' expect: -3
' expect: 4
' expect: 3
' expect: 4
' expect: true
