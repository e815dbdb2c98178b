TALK "a"
EXIT FOR
' expect error: [syntax_exit_for_outside_loop.bas:2:1] Error at 'EXIT': EXIT FOR outside a FOR loop
