' A wrong number of arguments for a built-in: the message names it and the counts.
TALK LEN("a", "b")
' expect error: [builtin_args_len_too_many.bas:2:1] Error: LEN expects 1 argument, got 2
