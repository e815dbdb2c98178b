' HEAR AS MOBILE (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: 123
' input: +1 (415) 555-0100
TALK "?"
HEAR answer AS MOBILE
TALK "got " + answer
' expect: ?
' expect: Please enter a valid mobile number, with the area code.
' expect: got +14155550100
