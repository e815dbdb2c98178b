' REMEMBER is a keyword, not REM followed by text: it parses and fails when run.
REMEMBER "color", "blue"
TALK "not reached"
' expect error: [remember_is_not_a_comment.bas:2:1] Error: keyword REMEMBER is not supported (line 2)