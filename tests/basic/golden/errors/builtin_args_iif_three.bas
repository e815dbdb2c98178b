' A wrong number of arguments for a built-in: the message names it and the counts.
TALK IIF(TRUE, 1)
' expect error: [builtin_args_iif_three.bas:2:1] Error: IIF expects 3 arguments, got 2
