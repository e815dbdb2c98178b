' Messages sent before a runtime error still reach the user.
TALK "before"
x = 1 / 0
' expect: before
' expect error: [runtime_talk_before_error_is_kept.bas:3:1] Error: division by zero
