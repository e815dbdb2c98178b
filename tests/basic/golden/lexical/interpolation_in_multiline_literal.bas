' Interpolation works in a literal that spans lines, and in single-quoted strings.
name = "Ann"
items = 3
TALK "Dear {name},
you have ${items} items."
TALK 'Bye {name}'
' expect: Dear Ann,
' expect: you have 3 items.
' expect: Bye Ann
