' SEND EMAIL parses; it fails when reached, naming the keyword and its line.
x = 1
IF x = 1 THEN
  SEND EMAIL "+5511999998888", "hello"
END IF
' expect error: [runtime_unsupported_keyword_send_email.bas:4:3] Error: keyword SEND EMAIL is not supported yet: channel not configured (line 4)