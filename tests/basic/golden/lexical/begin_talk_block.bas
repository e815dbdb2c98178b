' BEGIN TALK ... END TALK is one multi-line message, with interpolation.
name = "Ann"
total = 42
BEGIN TALK
Hello {name}!
Your total is ${total + 1}.
END TALK
TALK "after"
' expect: Hello Ann!
' expect: Your total is 43.
' expect: after
