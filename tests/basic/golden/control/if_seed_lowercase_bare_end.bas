' The seed's form: if / else if / else / end, no THEN, closed by a bare end.
FOR EACH msg_count IN [1, 5, 12]
  if msg_count < 3
    TALK "I can help with basic questions"
  else if msg_count < 10
    TALK "Try our advanced features!"
  else
    TALK "You're a power user! Check tools menu"
  end
NEXT
TALK "after"
' expect: I can help with basic questions
' expect: Try our advanced features!
' expect: You're a power user! Check tools menu
' expect: after
