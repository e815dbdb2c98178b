FOR i = 1 TO 3
  TALK i
' expect error: [syntax_missing_next.bas:1:1] Error at 'FOR': the FOR at line 1 has no NEXT
