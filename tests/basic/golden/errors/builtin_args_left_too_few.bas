' A wrong number of arguments for a built-in: the message names it and the counts.
x = LEFT("abc")
' expect error: [builtin_args_left_too_few.bas:2:1] Error: LEFT expects 2 arguments, got 1
