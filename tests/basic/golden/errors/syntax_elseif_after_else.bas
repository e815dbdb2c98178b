IF 1 THEN
ELSE
ELSEIF 2 THEN
END IF
' expect error: [syntax_elseif_after_else.bas:3:1] Error at 'ELSE IF': ELSE IF after ELSE
