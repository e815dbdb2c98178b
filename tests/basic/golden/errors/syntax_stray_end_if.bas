TALK "a"
END IF
' expect error: [syntax_stray_end_if.bas:2:1] Error at 'END IF': END IF without IF
