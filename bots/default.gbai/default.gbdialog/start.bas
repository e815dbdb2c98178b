' The default bot: a welcome, a name, a menu.
session_id = GET "session.id"
last_visit = GET_BOT_MEMORY("last_visit_" + session_id)
if last_visit
  TALK "Welcome back! Last seen: " + last_visit
else
  TALK "Welcome! First time here?"
end
SET_BOT_MEMORY "last_visit_" + session_id, NOW()

HEAR name AS NAME WITH "What is your name?"
SET user_name = name
HEAR topic AS "Sessions", "Channels", "Nothing, thanks" WITH "Hi " + name + ", what would you like to know about?"
SELECT CASE topic
  CASE "Sessions"
    TALK "Every conversation has memory: I will remember you, {name}."
  CASE "Channels"
    TALK "The same dialog runs on the web, WhatsApp, Teams, email and voice."
  CASE ELSE
    TALK "Bye, {name}!"
END SELECT
