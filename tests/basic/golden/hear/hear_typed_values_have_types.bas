' A typed HEAR stores a typed value: numbers are numbers, dates are dates, BOOLEAN is a boolean.
' input: 42
' input: 3.5
' input: 2026-12-24
' input: no
' input: https://example.com/a/photo.png
HEAR n AS INTEGER
HEAR f AS NUMBER
HEAR d AS DATE
HEAR b AS BOOLEAN
HEAR file AS FILE
TALK TYPEOF(n) + " " + (n + 1)
TALK TYPEOF(f) + " " + (f * 2)
TALK TYPEOF(d) + " " + DATEADD(d, 1)
TALK TYPEOF(b) + " " + NOT b
TALK file.name + " " + file.url
' expect: integer 43
' expect: number 7
' expect: date 2026-12-25
' expect: boolean true
' expect: photo.png https://example.com/a/photo.png
