TALK "a"
NEXT
' expect error: [syntax_next_without_for.bas:2:1] Error at 'NEXT': NEXT without FOR
