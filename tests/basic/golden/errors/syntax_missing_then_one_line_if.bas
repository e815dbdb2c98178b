' A one-line IF without THEN: the statement after the condition is not an operator.
x = 2
IF x > 1 y = 2
' expect error: [syntax_missing_then_one_line_if.bas:3:10] Error at 'y': expected THEN or the end of the line
