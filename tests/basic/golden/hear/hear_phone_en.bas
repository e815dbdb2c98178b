' HEAR AS PHONE (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: 12
' input: +44 20 7946 0958
TALK "?"
HEAR answer AS PHONE
TALK "got " + answer
' expect: ?
' expect: Please enter a valid phone number.
' expect: got +442079460958
