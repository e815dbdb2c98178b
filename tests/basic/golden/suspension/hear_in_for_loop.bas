' A HEAR inside a FOR loop: the loop variable and the total survive each suspension.
' input: 10
' input: 20
' input: 30
total = 0
FOR i = 1 TO 3
  TALK "Amount " + i + "?"
  HEAR amount AS NUMBER
  total = total + amount
NEXT
TALK "Total: " + total
' expect: Amount 1?
' expect: Amount 2?
' expect: Amount 3?
' expect: Total: 60
