' A DO ... LOOP UNTIL that asks until the answer is acceptable, with a typed re-ask inside.
' input: 5
' input: many
' input: 15
DO
  TALK "Pick a number over 10"
  HEAR n AS INTEGER
  IF n <= 10 THEN TALK n + " is too small"
LOOP UNTIL n > 10
TALK "ok " + n
' expect: Pick a number over 10
' expect: 5 is too small
' expect: Pick a number over 10
' expect: Please enter a whole number, like 42.
' expect: ok 15
