' NEXT while an IF inside the loop is still open.
FOR i = 1 TO 2
  IF i = 1 THEN
    TALK "one"
NEXT
' expect error: [syntax_next_while_if_open.bas:5:1] Error at 'NEXT': NEXT found while the IF at line 3 is still open (missing END IF?)
