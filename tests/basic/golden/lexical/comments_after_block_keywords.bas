' A quote after a keyword that ends its statement (END IF, DO, LOOP, RETURN, HEAR...) starts a comment.
' input: Ann
FUNCTION One()
  RETURN 1 ' the usual case
END FUNCTION ' end of One
FUNCTION Nada()
  RETURN ' no value
END FUNCTION
IF TRUE THEN ' open
  TALK "in if"
END IF ' close
n = 0
DO ' forever
  n = n + One()
  IF n >= 2 THEN EXIT DO ' leave
LOOP ' back
WHILE n < 3 ' grow
  n = n + 1
WEND ' done
TALK "n=" + n
name = HEAR ' ask for the name
TALK "name=" + name
' expect: in if
' expect: n=3
' expect: name=Ann
