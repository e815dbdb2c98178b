' NOW TODAY DATEADD DATEDIFF DAY MONTH YEAR HOUR MINUTE WEEKDAY FORMAT_DATE (now = 2026-11-25 14:30).
now_ = NOW()
TALK DAY(now_) + "/" + MONTH(now_) + "/" + YEAR(now_)
TALK HOUR(now_) + ":" + MINUTE(now_)
TALK WEEKDAY(TODAY())
TALK DATEADD(TODAY(), 10)
TALK DATEADD(TODAY(), 1, "m")
TALK DATEADD("yyyy", 1, TODAY())
TALK DATEADD(NOW(), 2, "h")
TALK DATEDIFF("2026-11-01", TODAY())
TALK DATEDIFF("m", "2026-01-15", "2026-11-25")
TALK FORMAT_DATE(NOW(), "dd/MM/yyyy HH:mm")
TALK FORMAT_DATE("2026-12-31", "MMMM d, yyyy")
TALK HOUR("09:45") + MINUTE("09:45")
TALK DAY("25/12/2026")
' expect: 25/11/2026
' expect: 14:30
' expect: 4
' expect: 2026-12-05
' expect: 2026-12-25
' expect: 2027-11-25
' expect: 2026-11-25 16:30:00
' expect: 24
' expect: 10
' expect: 25/11/2026 14:30
' expect: December 31, 2026
' expect: 54
' expect: 25
