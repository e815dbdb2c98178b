' CALL of a name that is no SUB or FUNCTION of the file, or of "x.bas", asks the runtime to run
' that dialog of the bot with the arguments (outside a session of the bot there is none to run).
SUB greet(n)
  TALK "hi " + n
END SUB
CALL greet("Ann")
CALL "create-ticket.bas", 7, "urgent"
' expect: hi Ann
' expect: [CALL "create-ticket.bas", 7, "urgent"]
' expect error: [call_another_dialog.bas:7:1] Error: CALL create-ticket.bas: another dialog runs only in a session of the bot (gb serve)
