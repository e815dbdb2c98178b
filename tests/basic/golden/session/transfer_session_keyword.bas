' The seed's TRANSFER_SESSION is a request to the runtime; without the target channel it fails.
TALK "moving you to email"
TRANSFER_SESSION "email"
TALK "never said"
' expect: moving you to email
' expect: [TRANSFER SESSION "email"]
' expect error: [transfer_session_keyword.bas:3:1] Error: TRANSFER_SESSION: channel not configured (the email channel is not set up for bot golden: its keys are not in config.csv)
