' Inside a condition = compares; == <> != compare too.
a = 3
IF a = 3 THEN TALK "= ok"
IF a == 3 THEN TALK "== ok"
IF a <> 4 THEN TALK "<> ok"
IF a != 4 THEN TALK "!= ok"
IF a <= 3 AND a >= 3 THEN TALK "<= >= ok"
IF a < 4 AND NOT a > 3 THEN TALK "< > ok"
same = a = 3
TALK same
' expect: = ok
' expect: == ok
' expect: <> ok
' expect: != ok
' expect: <= >= ok
' expect: < > ok
' expect: true
