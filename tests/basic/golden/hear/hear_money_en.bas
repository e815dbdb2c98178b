' HEAR AS MONEY (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: lots
' input: $1,234.56
TALK "?"
HEAR answer AS MONEY
TALK "got " + answer
' expect: ?
' expect: Please enter an amount of money, like 1,234.56.
' expect: got 1234.56
