' The seed's Progressive Disclosure: session.message_count counts the user's messages.
' input: hi
' input: more
' input: again
msg_count = GET "session.message_count"
TALK "count " + msg_count
FOR i = 1 TO 3
  HEAR anything
  msg_count = GET "session.message_count"
  if msg_count < 2
    TALK "I can help with basic questions"
  else if msg_count < 3
    TALK "Try our advanced features!"
  else
    TALK "You're a power user! Check tools menu"
  end
NEXT
' expect: count 0
' expect: I can help with basic questions
' expect: Try our advanced features!
' expect: You're a power user! Check tools menu
