TALK "a"
GOTO nowhere
' expect error: [syntax_goto_unknown_label.bas:2:6] Error at 'nowhere': GOTO nowhere: no label nowhere: in this dialog
