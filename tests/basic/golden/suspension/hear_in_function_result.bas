' A FUNCTION with a HEAR (and a re-ask) returns the answer into an expression.
' input: abc
' input: 4
FUNCTION AskNumber(question)
  TALK question
  HEAR n AS INTEGER
  RETURN n
END FUNCTION
result = AskNumber("How many?") * 10
TALK "result " + result
' expect: How many?
' expect: Please enter a whole number, like 42.
' expect: result 40
