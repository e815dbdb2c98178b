' An unimplemented keyword parses; it fails only when executed.
IF FALSE THEN
  SEND EMAIL "+5511999998888", "never sent"
END IF
TALK "still running"
' expect: still running
