' A HEAR in a recursive FUNCTION: several frames are waiting at once.
' input: a
' input: b
' input: c
FUNCTION Collect(n)
  IF n = 0 THEN RETURN ""
  HEAR part
  RETURN part + Collect(n - 1)
END FUNCTION
TALK Collect(3)
' expect: abc
