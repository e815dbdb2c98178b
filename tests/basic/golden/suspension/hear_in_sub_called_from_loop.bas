' A SUB with a HEAR, called from a FOR loop: call frames survive the suspension.
' input: Ann
' input: Bob
names = []
SUB AskName(n)
  TALK "Name " + n + "?"
  HEAR who AS NAME
  PUSH(names, who)
END SUB
FOR i = 1 TO 2
  CALL AskName(i)
NEXT
TALK JOIN(names, " & ")
' expect: Name 1?
' expect: Name 2?
' expect: Ann & Bob
