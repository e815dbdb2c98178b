' An IF ... THEN block without END IF: the error names the IF's line.
x = 1
IF x > 0 THEN
  TALK "positive"
TALK "done"
' expect error: [syntax_missing_end_if_names_line.bas:3:1] Error at 'IF': the IF at line 3 has no END IF (a bare END stops the dialog)
