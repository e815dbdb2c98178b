' A bare EXIT at the top level stops the dialog.
TALK "one"
EXIT
TALK "never"
' expect: one
