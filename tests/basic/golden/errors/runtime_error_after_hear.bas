' A runtime error after a suspension: the earlier transcript stands.
' input: abc
TALK "Number?"
HEAR n
TALK "doubling"
y = n * 2
' expect: Number?
' expect: doubling
' expect error: [runtime_error_after_hear.bas:6:1] Error: "abc" is not a number
