FOR i = 1 TO 2
  FOR j = 1 TO 2
    TALK i * j
  NEXT i
NEXT j
' expect error: [syntax_next_name_mismatch.bas:4:3] Error at 'NEXT': NEXT i does not match FOR j at line 2
