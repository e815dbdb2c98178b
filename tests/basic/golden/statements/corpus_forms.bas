' Forms General Bots' own dialogs use: LET, a trailing ;, STEP n: markers, END FOR, FOR ... IN ... DO,
' WHILE ... DO, ELSE IF, IF NOT, built-ins without parentheses, FORMAT x AS "pattern", ??, ?:, &&,
' CONTAINS, #{ } literals over several lines, a field named like a keyword, TABLE blocks (declarations).
TABLE orders
    Id uuid key
    Total DECIMAL(15,2) DEFAULT 0
END TABLE
STEP 1:
let total = 0;
items = [3, 4, 5]
FOR EACH n IN items DO
    total = total + n
END FOR
FOR k IN items DO
    IF NOT k = 4 THEN
        PRINT "not four: " + k
    ELSE IF k = 4 THEN
        PRINT "four"
    END IF
NEXT
i = 0
WHILE i < 2 DO
    i = i + 1
WEND
TALK "total " + total + ", i " + i
days = DATEDIFF "2026-11-20", "2026-11-25", "day"
TALK "days " + days
TALK "today " + FORMAT NOW() AS "yyyy-MM-dd"
missing = NULL
TALK missing ?? "fallback"
TALK total > 10 ? "big" : "small"
IF total > 10 && i = 2 THEN TALK "both"
IF "General Bots" CONTAINS "Bots" THEN TALK "contains"
order = #{
    to: "Ann",
    step: 2,
}
TALK order.to + " " + order.step
CALL greet("Bob")
SUB greet(who)
    PRINT "Hi " + who
END SUB
' expect: not four: 3
' expect: four
' expect: not four: 5
' expect: total 12, i 2
' expect: days 5
' expect: today 2026-11-25
' expect: fallback
' expect: big
' expect: both
' expect: contains
' expect: Ann 2
' expect: Hi Bob
