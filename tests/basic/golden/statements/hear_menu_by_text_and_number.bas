' HEAR x AS "a", "b", "c" shows a menu; the answer is the text or the item's number.
' input: blue
' input: 3
' input: GREEN
HEAR color AS "red", "green", "blue"
TALK "You chose " + color
HEAR size AS "S", "M", "L"
TALK "Size " + size
HEAR again AS "red", "green", "blue"
TALK "Again " + again
' expect: (choices: red | green | blue)
' expect: You chose blue
' expect: (choices: S | M | L)
' expect: Size L
' expect: (choices: red | green | blue)
' expect: Again green
