' A HEAR inside a SELECT CASE branch, inside a DO loop.
' input: 2
' input: pizza
' input: 1
' input: 3
DO
  HEAR choice AS "Status", "Order", "Quit"
  SELECT CASE choice
    CASE "Status"
      TALK "All good"
    CASE "Order"
      TALK "What do you want?"
      HEAR item
      TALK "Ordered " + item
    CASE ELSE
      EXIT DO
  END SELECT
LOOP
TALK "Bye"
' expect: (choices: Status | Order | Quit)
' expect: What do you want?
' expect: Ordered pizza
' expect: (choices: Status | Order | Quit)
' expect: All good
' expect: (choices: Status | Order | Quit)
' expect: Bye
