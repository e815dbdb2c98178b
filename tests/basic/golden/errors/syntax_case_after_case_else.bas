SELECT CASE 1
  CASE ELSE
    TALK "x"
  CASE 2
END SELECT
' expect error: [syntax_case_after_case_else.bas:4:3] Error at 'CASE': CASE after CASE ELSE
