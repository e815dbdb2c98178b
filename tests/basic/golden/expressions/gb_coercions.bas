' General Bots coercions: + concatenates with text, other operators read numeric text.
TALK 1 + "a"
TALK "a" + 1
TALK "2" * 3
TALK "10" - 4
TALK "7" / "2"
TALK 1 + 2
TALK "1" + "2"
TALK 1 & 2
TALK "x" & 3.5 & TRUE
IF "10" > 9 THEN TALK "numeric compare"
IF "abc" < "abd" THEN TALK "text compare"
IF "10" = 10 THEN TALK "10 equals ten"
' expect: 1a
' expect: a1
' expect: 6
' expect: 6
' expect: 3.5
' expect: 3
' expect: 12
' expect: 12
' expect: x3.5true
' expect: numeric compare
' expect: text compare
' expect: 10 equals ten
