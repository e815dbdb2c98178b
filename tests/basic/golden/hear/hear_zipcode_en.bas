' HEAR AS ZIPCODE (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: ABC
' input: 12345-6789
TALK "?"
HEAR answer AS ZIPCODE
TALK "got " + answer
' expect: ?
' expect: Please enter a valid ZIP code, like 12345 or 12345-6789.
' expect: got 12345-6789
