' A list that holds itself cannot be shown, saved or compared: a clear error, not a crash.
l = [1, 2]
PUSH(l, l)
TALK "pushed"
TALK l
' expect: pushed
' expect error: [runtime_value_contains_itself.bas:5:1] Error: the value contains itself: a list cannot hold itself (line 5)
