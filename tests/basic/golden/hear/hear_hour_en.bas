' HEAR AS HOUR (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: 25:00
' input: 2:30 PM
TALK "?"
HEAR answer AS HOUR
TALK "got " + answer
' expect: ?
' expect: Please enter a time, like 14:30 or 2:30 PM.
' expect: got 14:30
