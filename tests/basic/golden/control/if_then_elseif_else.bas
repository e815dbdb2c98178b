' IF ... THEN / ELSEIF / ELSE IF / ELSE / END IF.
FOR EACH n IN [1, 5, 10, 50]
  IF n < 3 THEN
    TALK n + " small"
  ELSEIF n < 8 THEN
    TALK n + " medium"
  ELSE IF n < 20 THEN
    TALK n + " large"
  ELSE
    TALK n + " huge"
  END IF
NEXT
' expect: 1 small
' expect: 5 medium
' expect: 10 large
' expect: 50 huge
