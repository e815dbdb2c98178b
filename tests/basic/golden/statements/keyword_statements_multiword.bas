' Multi-word keyword statements take comma-separated arguments (AS also separates).
' (SEND MAIL comes last: without an email channel production fails it, after the request.)
SET BOT MEMORY "greeting", "hi"
ADD SUGGESTION "menu" AS "Show products"
CLEAR SUGGESTIONS
USE KB "policies"
CLEAR KB
USE TOOL "weather"
ADD TOOL "calendar"
CLEAR TOOLS
SET CONTEXT "mood" AS "happy"
WAIT 2
SET SCHEDULE "0 9 * * *"
TALK "done"
SEND MAIL "ann@example.com", "Hi", "Body text"
' expect: [SET BOT MEMORY "greeting", "hi"]
' expect: [ADD SUGGESTION "menu", "Show products"]
' expect: [CLEAR SUGGESTIONS]
' expect: [USE KB "policies"]
' expect: [CLEAR KB]
' expect: [USE TOOL "weather"]
' expect: [ADD TOOL "calendar"]
' expect: [CLEAR TOOLS]
' expect: [SET CONTEXT "mood", "happy"]
' expect: [WAIT 2]
' expect: [SET SCHEDULE "0 9 * * *"]
' expect: done
' expect: [SEND MAIL "ann@example.com", "Hi", "Body text"]
' expect error: [keyword_statements_multiword.bas:15:1] Error: SEND MAIL: channel not configured (no email channel is set up for bot golden)
