' FUNCTION with RETURN, SUB with CALL (with and without parentheses), EXIT SUB.
FUNCTION Square(n)
  RETURN n * n
END FUNCTION

FUNCTION Greet(name, greeting)
  RETURN greeting + ", " + name
END FUNCTION

SUB Announce(msg)
  TALK "** " + msg + " **"
END SUB

SUB Maybe(flag)
  IF NOT flag THEN EXIT SUB
  TALK "flag set"
END SUB

TALK Square(7)
TALK greet("Ann", "Hi")
CALL Announce("sale")
CALL Announce, "again"
Announce("bare call")
CALL Maybe(FALSE)
CALL Maybe(TRUE)
' expect: 49
' expect: Hi, Ann
' expect: ** sale **
' expect: ** again **
' expect: ** bare call **
' expect: flag set
