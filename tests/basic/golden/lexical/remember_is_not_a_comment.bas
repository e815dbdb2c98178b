' REMEMBER is a keyword, not REM followed by text: it runs (and RECALL reads it back).
REMEMBER "color", "blue"
x = RECALL "color"
TALK "not a comment: " + x
' expect: [REMEMBER "color", "blue"]
' expect: [RECALL "color"]
' expect: not a comment: blue
