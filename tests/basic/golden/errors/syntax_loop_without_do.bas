x = 1
LOOP
' expect error: [syntax_loop_without_do.bas:2:1] Error at 'LOOP': LOOP without DO
