' Typographic quotes, as pasted from a word processor, are quotes.
TALK “Hello from Word”
x = “typed” + " and " + "plain"
TALK x
' expect: Hello from Word
' expect: typed and plain
