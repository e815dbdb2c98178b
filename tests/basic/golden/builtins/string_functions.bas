' LEN LEFT RIGHT MID INSTR REPLACE TRIM LTRIM RTRIM UPPER UCASE LOWER LCASE.
s = "Hello World"
TALK LEN(s)
TALK LEFT(s, 5)
TALK RIGHT(s, 5)
TALK MID(s, 7, 3)
TALK MID(s, 7)
TALK INSTR(s, "o")
TALK INSTR(6, s, "o")
TALK INSTR(s, "z")
TALK REPLACE(s, "World", "There")
TALK "[" + TRIM("  pad  ") + "]"
TALK "[" + LTRIM("  pad  ") + "]"
TALK "[" + RTRIM("  pad  ") + "]"
TALK UPPER("abc") + UCASE("d")
TALK LOWER("ABC") + LCASE("D")
TALK LEN("")
' expect: 11
' expect: Hello
' expect: World
' expect: Wor
' expect: World
' expect: 5
' expect: 8
' expect: 0
' expect: Hello There
' expect: [pad]
' expect: [pad  ]
' expect: [  pad]
' expect: ABCD
' expect: abcd
' expect: 0
