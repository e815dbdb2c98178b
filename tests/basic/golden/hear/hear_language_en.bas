' HEAR AS LANGUAGE (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: klingon
' input: Portuguese
TALK "?"
HEAR answer AS LANGUAGE
TALK "got " + answer
' expect: ?
' expect: Please enter a language, like English or Portuguese.
' expect: got pt
