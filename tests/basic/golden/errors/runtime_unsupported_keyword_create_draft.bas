' CREATE DRAFT parses; it fails when reached, naming the keyword and its line.
x = 1
IF x = 1 THEN
  CREATE DRAFT "ann@example.com", "hello", "body"
END IF
' expect error: [runtime_unsupported_keyword_create_draft.bas:4:3] Error: keyword CREATE DRAFT is not supported yet: channel not configured (line 4)