' Old-style leading line numbers are ignored.
10 x = 5
20 TALK "x is " + x
30 IF x > 3 THEN TALK "big"
40 TALK "end"
' expect: x is 5
' expect: big
' expect: end
