' HEAR AS INTEGER (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: 4.5
' input: 42
TALK "?"
HEAR answer AS INTEGER
TALK "got " + answer
' expect: ?
' expect: Please enter a whole number, like 42.
' expect: got 42
