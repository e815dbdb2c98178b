' ON ERROR RESUME NEXT skips a failing statement and goes on.
ON ERROR RESUME NEXT
x = 1 / 0
TALK "still here"
y = "abc" * 2
TALK "and here"
' expect: still here
' expect: and here
