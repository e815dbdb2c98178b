' A keyword gb does not run parses (gb check warns) and fails only when the dialog reaches it; so does a
' form of a keyword gb runs that is not an argument list, and a keyword used as a value.
IF FALSE THEN
    SAVE "products" WITH name AS "x", price AS 2
    reply = POST "https://example.com/api", #{ a: 1 }
END IF
TALK "before"
CREATE DRAFT "ann@example.com", "welcome", "hi"
TALK "never"
' expect: before
' expect error: [unsupported_keyword_fails_when_reached.bas:8:1] Error: keyword CREATE DRAFT is not supported yet: channel not configured (line 8)
