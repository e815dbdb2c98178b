' END stops the dialog; EXIT outside a block does too.
TALK "one"
IF TRUE THEN
  TALK "two"
  END
END IF
TALK "never"
' expect: one
' expect: two
