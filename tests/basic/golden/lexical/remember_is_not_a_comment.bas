' REMEMBER is a keyword, not REM followed by text: it runs (and RECALL reads it back, both forms).
REMEMBER "color", "blue"
x = RECALL "color"
TALK "not a comment: " + x + " " + RECALL("color")
' expect: [REMEMBER "color", "blue"]
' expect: [RECALL "color"]
' expect: [RECALL "color"]
' expect: not a comment: blue blue
