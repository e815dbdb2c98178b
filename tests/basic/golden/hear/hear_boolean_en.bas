' HEAR AS BOOLEAN (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: maybe
' input: yes
TALK "?"
HEAR answer AS BOOLEAN
TALK "got " + answer
' expect: ?
' expect: Please answer yes or no.
' expect: got true
