' GET takes the whole + & expression after it as its key; GET of a variable of the dialog is its
' value when that is an http(s) URL, else (as always) the session variable of that name.
SET lead_7 = "Ann"
SET color = "blue"
id = 7
n = GET "lead_" + id
TALK n
color = "red"
c = GET color
TALK c
IF GET "color" = "blue" THEN
  TALK "a comparison is not GET's"
END IF
' the key is "lead_7 is here" (no such variable), not GET "lead_" then & ...
t = GET "lead_" & id + " is here"
TALK t
GET color
TALK color
' expect: Ann
' expect: blue
' expect: a comparison is not GET's
' expect: 
' expect: blue
