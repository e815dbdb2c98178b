' The seed's Welcome Back pattern, run twice in one dialog.
session_id = GET "session.id"
FOR visit = 1 TO 2
  last_visit = GET_BOT_MEMORY("last_visit_" + session_id)
  if last_visit
    TALK "Welcome back! Last seen: " + last_visit
  else
    TALK "Welcome! First time here?"
  end
  SET_BOT_MEMORY "last_visit_" + session_id, NOW()
NEXT
' expect: [GET BOT MEMORY "last_visit_00000000-0000-4000-8000-000000000001"]
' expect: Welcome! First time here?
' expect: [SET BOT MEMORY "last_visit_00000000-0000-4000-8000-000000000001", "2026-11-25 14:30:00"]
' expect: [GET BOT MEMORY "last_visit_00000000-0000-4000-8000-000000000001"]
' expect: Welcome back! Last seen: 2026-11-25 14:30:00
' expect: [SET BOT MEMORY "last_visit_00000000-0000-4000-8000-000000000001", "2026-11-25 14:30:00"]
