' A line that ends with a comma continues on the next line.
SEND MAIL "ann@example.com",
    "Welcome",
    "Hello Ann"
items = JOIN(["a",
  "b",
  "c"], "+")
TALK items
' expect: [SEND MAIL "ann@example.com", "Welcome", "Hello Ann"]
' expect: a+b+c
