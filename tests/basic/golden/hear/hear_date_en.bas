' HEAR AS DATE (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: someday
' input: 11/25/2026
TALK "?"
HEAR answer AS DATE
TALK "got " + answer
' expect: ?
' expect: Please enter a valid date, like 11/25/2026.
' expect: got 2026-11-25
