WEND
' expect error: [syntax_wend_without_while.bas:1:1] Error at 'WEND': WEND without WHILE
