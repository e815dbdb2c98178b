ON ERROR RESUME NEXT
a = 5 \ 0
TALK "resumed"
ON ERROR GOTO 0
b = 5 MOD 0
' expect: resumed
' expect error: [runtime_int_division_and_mod_by_zero.bas:5:1] Error: division by zero
