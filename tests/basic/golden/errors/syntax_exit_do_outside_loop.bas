FOR i = 1 TO 2
  EXIT DO
NEXT
' expect error: [syntax_exit_do_outside_loop.bas:2:3] Error at 'EXIT': EXIT DO outside a DO loop
