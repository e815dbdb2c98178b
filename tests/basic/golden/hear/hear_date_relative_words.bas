' DATE understands today / tomorrow relative to NOW() (2026-11-25).
' input: tomorrow
' input: today
HEAR d1 AS DATE
HEAR d2 AS DATE
TALK d1 + " " + d2
' expect: 2026-11-26 2026-11-25
