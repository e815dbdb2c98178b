' A string literal may span lines: each line of the text is a transcript line.
TALK "first line
second line
third line"
TALK "done"
' expect: first line
' expect: second line
' expect: third line
' expect: done
