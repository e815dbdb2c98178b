' SET x = stores a session variable; GET x loads it back into x.
SET color = "blue"
color = "red"
TALK color
GET color
TALK color
SET visits = 2 + 1
visits = NULL
GET visits
TALK visits + 1
' expect: red
' expect: blue
' expect: 4
