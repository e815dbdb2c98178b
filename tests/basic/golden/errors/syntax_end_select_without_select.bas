x = 1
END SELECT
' expect error: [syntax_end_select_without_select.bas:2:1] Error at 'END SELECT': END SELECT without SELECT CASE
