' ELSE IF / ELSEIF may omit THEN inside an IF ... THEN block.
x = 7
IF x < 5 THEN
  TALK "small"
ELSE IF x < 8
  TALK "medium"
ELSE
  TALK "large"
END IF
IF x > 100 THEN
  TALK "huge"
ELSEIF x > 5
  TALK "over five"
END IF
' expect: medium
' expect: over five
