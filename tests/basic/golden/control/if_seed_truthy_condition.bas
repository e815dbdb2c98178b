' "if last_visit" tests a value's truth: NULL and "" are false.
last_visit = GET_BOT_MEMORY("last_visit")
if last_visit
  TALK "Welcome back!"
else
  TALK "Welcome! First time here?"
end
SET_BOT_MEMORY "last_visit", "2026-11-24"
last_visit = GET_BOT_MEMORY("last_visit")
if last_visit
  TALK "Welcome back! Last seen: " + last_visit
end
' expect: [GET BOT MEMORY "last_visit"]
' expect: Welcome! First time here?
' expect: [SET BOT MEMORY "last_visit", "2026-11-24"]
' expect: [GET BOT MEMORY "last_visit"]
' expect: Welcome back! Last seen: 2026-11-24
