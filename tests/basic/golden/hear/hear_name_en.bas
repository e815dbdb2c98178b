' HEAR AS NAME (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: 12345
' input: Ann Smith
TALK "?"
HEAR answer AS NAME
TALK "got " + answer
' expect: ?
' expect: Please enter a valid name, using letters only.
' expect: got Ann Smith
