' SPLIT JOIN STR VAL FORMAT.
parts = SPLIT("a,b,c", ",")
TALK LEN(parts)
TALK parts[1]
words = SPLIT("  one two   three ")
TALK JOIN(words, "|")
TALK JOIN(["x", 1, TRUE])
TALK STR(42) + STR(1.5)
TALK TYPEOF(STR(42))
TALK VAL("12abc") + 1
TALK VAL("3.5") * 2
TALK VAL("abc")
TALK FORMAT(1234.5, "#,##0.00")
TALK FORMAT(0.256, "0%")
TALK FORMAT(3.14159, "0.00")
TALK FORMAT(7, "000")
TALK FORMAT(1234.5, "#.##0,00")
TALK FORMAT(NOW(), "dd/MM/yyyy")
' expect: 3
' expect: b
' expect: one|two|three
' expect: x 1 true
' expect: 421.5
' expect: string
' expect: 13
' expect: 7
' expect: 0
' expect: 1,234.50
' expect: 26%
' expect: 3.14
' expect: 007
' expect: 1.234,50
' expect: 25/11/2026
