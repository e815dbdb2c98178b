' A wrong number of arguments for a built-in: the message names it and the counts.
r = RANGE()
' expect error: [builtin_args_range_one_to_three.bas:2:1] Error: RANGE expects 1 to 3 arguments, got 0
