' A string that is never closed (a literal may span lines, so it runs to the end of the file).
' expect error: [syntax_unterminated_string.bas:5:6] Error at '"': unterminated string
x = 1
' the quote below is never closed
TALK "abc
TALK x
