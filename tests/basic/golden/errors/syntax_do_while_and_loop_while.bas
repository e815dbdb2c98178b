DO WHILE 1
LOOP WHILE 2
' expect error: [syntax_do_while_and_loop_while.bas:2:1] Error at 'LOOP': a DO WHILE/UNTIL loop cannot also test at LOOP
