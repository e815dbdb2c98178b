' HEAR AS FILE (en): a bad answer is refused with a re-ask message, then a good one is kept.
' input: hello there
' input: https://example.com/files/report.pdf
TALK "?"
HEAR answer AS FILE
TALK "got " + answer.name
' expect: ?
' expect: Please send a file.
' expect: got report.pdf
