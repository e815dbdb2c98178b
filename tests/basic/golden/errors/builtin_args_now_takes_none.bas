' A wrong number of arguments for a built-in: the message names it and the counts.
TALK NOW(1)
' expect error: [builtin_args_now_takes_none.bas:2:1] Error: NOW expects no arguments, got 1
