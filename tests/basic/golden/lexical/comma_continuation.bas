' A line that ends with a comma continues on the next line.
' (SEND MAIL comes last: without an email channel production fails it, after the request.)
items = JOIN(["a",
  "b",
  "c"], "+")
TALK items
SEND MAIL "ann@example.com",
    "Welcome",
    "Hello Ann"
' expect: a+b+c
' expect: [SEND MAIL "ann@example.com", "Welcome", "Hello Ann"]
' expect error: [comma_continuation.bas:7:1] Error: SEND MAIL: channel not configured (no email channel is set up for bot golden)
