' FOR/NEXT with default step, positive STEP, negative STEP and an empty range.
out = ""
FOR i = 1 TO 3
  out = out & i
NEXT i
TALK out
out = ""
FOR i = 0 TO 10 STEP 5
  out = out & i & ","
NEXT
TALK out
out = ""
FOR i = 3 TO 1 STEP -1
  out = out & i
NEXT i
TALK out
FOR i = 5 TO 1
  TALK "never"
NEXT
TALK "i after loop: " + i
' expect: 123
' expect: 0,5,10,
' expect: 321
' expect: i after loop: 5
