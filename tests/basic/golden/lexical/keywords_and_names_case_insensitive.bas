' Keywords, built-in names and variable names ignore case.
talk "one"
Talk "two"
TALK "three"
PrInT "four"
UserName = "Ann"
TALK username
tAlK USERNAME + "!"
userNAME = "Bob"
TALK UserName
TALK len("abc") + Len("de") + LEN("f")
' expect: one
' expect: two
' expect: three
' expect: four
' expect: Ann
' expect: Ann!
' expect: Bob
' expect: 6
