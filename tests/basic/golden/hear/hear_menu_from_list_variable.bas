' HEAR x AS list: the menu's choices come from a list variable.
' input: 2
sizes = ["Small", "Medium", "Large"]
HEAR size AS sizes
TALK "Size: " + size
' expect: (choices: Small | Medium | Large)
' expect: Size: Medium
