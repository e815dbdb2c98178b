' A {word} that is not a known variable stays as written (JSON-like text survives).
name = "Ann"
TALK "{greeting}, {name}"
TALK "use {curly} braces"
' expect: {greeting}, Ann
' expect: use {curly} braces
