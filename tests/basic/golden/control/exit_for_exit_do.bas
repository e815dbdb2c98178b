' EXIT FOR and EXIT DO leave the innermost loop.
FOR i = 1 TO 10
  IF i = 4 THEN EXIT FOR
  TALK "i=" + i
NEXT
TALK "after for: " + i
n = 0
DO
  n = n + 1
  IF n >= 2 THEN
    EXIT DO
  END IF
LOOP
TALK "after do: " + n
FOR EACH a IN [1, 2]
  FOR EACH b IN [10, 20, 30]
    IF b = 20 THEN EXIT FOR
    TALK a * b
  NEXT
NEXT
' expect: i=1
' expect: i=2
' expect: i=3
' expect: after for: 4
' expect: after do: 2
' expect: 10
' expect: 20
