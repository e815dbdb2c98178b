' ${expr} and {name} interpolate inside string literals.
name = "Ann"
n = 3
TALK "Hi {name}!"
TALK "Hi ${name}, ${n * 2} items"
TALK "${UPPER(name)} has {n}"
' expect: Hi Ann!
' expect: Hi Ann, 6 items
' expect: ANN has 3
