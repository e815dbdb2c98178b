' HEAR AS FLOAT (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: x
' input: 2.25
TALK "?"
HEAR answer AS FLOAT
TALK "got " + answer
' expect: ?
' expect: Please enter a number, like 3.5.
' expect: got 2.25
