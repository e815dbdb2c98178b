' BEGIN SYSTEM PROMPT ... END SYSTEM PROMPT is a keyword request with the text.
bot = "Helper"
BEGIN SYSTEM PROMPT
You are {bot}.
Answer briefly.
END SYSTEM PROMPT
TALK "ready"
' expect: [SYSTEM PROMPT "You are Helper.\nAnswer briefly."]
' expect: ready
