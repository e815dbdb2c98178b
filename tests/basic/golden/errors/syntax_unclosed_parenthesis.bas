x = (1 + 2
' expect error: [syntax_unclosed_parenthesis.bas:1:11] Error at 'end of line': expected ')'
