SELECT CASE 1
  TALK "x"
  CASE 1
END SELECT
' expect error: [syntax_statement_before_first_case.bas:2:3] Error: expected CASE after SELECT CASE
