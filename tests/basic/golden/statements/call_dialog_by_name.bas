' CALL name / CALL name(args), name no SUB or FUNCTION of the file: a dialog of the bot.
x = 2
CALL pricing(x * 10, "EUR")
' expect: [CALL "pricing", 20, "EUR"]
' expect error: [call_dialog_by_name.bas:3:1] Error: CALL pricing: another dialog runs only in a session of the bot (gb serve)
