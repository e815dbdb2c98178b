' A text that would pass the cap (1,000,000 characters by default) is refused before it is
' built: doubling a text 20 times stops at the line that would build the 20th.
s = "a"
FOR i = 1 TO 25
  s = s & s
NEXT
' expect error: [runtime_text_too_long.bas:5:3] Error: text too long: the text would have 1,048,576 characters (the limit is 1,000,000) (line 5)
