' HEAR AS NUMBER (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: abc
' input: 3.5
TALK "?"
HEAR answer AS NUMBER
TALK "got " + answer
' expect: ?
' expect: Please enter a number, like 3.5.
' expect: got 3.5
