x = 1
ELSE
  TALK "x"
' expect error: [syntax_else_without_if.bas:2:1] Error at 'ELSE': ELSE without IF
