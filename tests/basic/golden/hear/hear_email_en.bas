' HEAR AS EMAIL (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: ann at example
' input: Ann@Example.com
TALK "?"
HEAR answer AS EMAIL
TALK "got " + answer
' expect: ?
' expect: Please enter a valid email address.
' expect: got ann@example.com
