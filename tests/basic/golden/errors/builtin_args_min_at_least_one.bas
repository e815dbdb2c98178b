' A wrong number of arguments for a built-in: the message names it and the counts.
TALK MIN()
' expect error: [builtin_args_min_at_least_one.bas:2:1] Error: MIN expects at least 1 argument, got 0
