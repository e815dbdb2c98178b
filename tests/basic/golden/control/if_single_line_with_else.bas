' Single-line IF, with and without ELSE.
x = 5
IF x > 3 THEN TALK "big"
IF x > 10 THEN TALK "huge"
IF x = 5 THEN TALK "five" ELSE TALK "not five"
IF x <> 5 THEN TALK "not five" ELSE TALK "five again"
IF x > 0 THEN y = 1 ELSE y = -1
TALK y
' expect: big
' expect: five
' expect: five again
' expect: 1
