IF 1 THEN
  TALK "a"
ELSE
  TALK "b"
ELSE
  TALK "c"
END IF
' expect error: [syntax_second_else.bas:5:1] Error at 'ELSE': a second ELSE for the IF at line 1
