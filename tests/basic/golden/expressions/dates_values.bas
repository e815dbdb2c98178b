' Dates: NOW() is 2026-11-25 14:30:00; date arithmetic in days.
TALK NOW()
TALK TODAY()
d = TODAY() + 7
TALK d
TALK TYPEOF(d)
TALK TODAY() - DATEADD(TODAY(), -10)
IF TODAY() < d THEN TALK "earlier"
' expect: 2026-11-25 14:30:00
' expect: 2026-11-25
' expect: 2026-12-02
' expect: date
' expect: 10
' expect: earlier
