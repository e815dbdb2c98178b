' A wrong number of arguments for a built-in: the message names it and the counts.
TALK MID("abc", 1, 2, 3)
' expect error: [builtin_args_mid_two_or_three.bas:2:1] Error: MID expects 2 or 3 arguments, got 4
