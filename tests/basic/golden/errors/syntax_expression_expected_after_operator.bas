total = 1 +
TALK total
' expect error: [syntax_expression_expected_after_operator.bas:1:12] Error at 'end of line': expected an expression
