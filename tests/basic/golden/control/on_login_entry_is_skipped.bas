' ON LOGIN ... END is a separate entry point: the main dialog skips it.
TALK "main starts"
ON LOGIN
  MERGE_SESSION anonymous_id, user_id
  TALK "logged in"
END
TALK "main ends"
' expect: main starts
' expect: main ends
