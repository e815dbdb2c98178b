' The seed's Session Export: GET "session.history" then SAVE "file", value.
' input: Ann
TALK "Your name?"
HEAR name
history = GET "session.history"
SAVE "conversation.txt", history
TALK "saved"
' expect: Your name?
' expect: [SAVE "conversation.txt", "assistant: Your name?\nuser: Ann"]
' expect: saved
