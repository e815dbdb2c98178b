x = 1
IF THEN
END IF
' expect error: [syntax_expression_expected.bas:2:4] Error at 'THEN': expected an expression
