' The seed's Session Merge block is a separate entry point; the dialog around it runs alone.
' input: hello
ON LOGIN
  MERGE_SESSION anonymous_id, user_id
END
TALK "How can I help?"
answer = HEAR
TALK "I understand you need help with: " + answer
' expect: How can I help?
' expect: I understand you need help with: hello
