SELECT CASE 1
  CASE 1
    TALK "one"
' expect error: [syntax_missing_end_select.bas:1:1] Error at 'SELECT CASE': the SELECT CASE at line 1 has no END SELECT
