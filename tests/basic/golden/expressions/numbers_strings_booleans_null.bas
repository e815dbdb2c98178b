' Literal values and how TALK shows them.
TALK 42
TALK -7
TALK 3.5
TALK 10 / 4
TALK 10 / 5
TALK "text"
TALK TRUE
TALK FALSE
TALK "[" + NULL + "]"
TALK "[" + NOTHING + "]"
TALK TYPEOF(42) + " " + TYPEOF(3.5) + " " + TYPEOF("s") + " " + TYPEOF(TRUE) + " " + TYPEOF(NULL)
' expect: 42
' expect: -7
' expect: 3.5
' expect: 2.5
' expect: 2
' expect: text
' expect: true
' expect: false
' expect: []
' expect: []
' expect: integer number string boolean null
