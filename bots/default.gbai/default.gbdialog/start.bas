' The default bot: a welcome (back), a name, a menu, answers from the "guide" KB.
session_id = GET "session.id"
last_visit = GET_BOT_MEMORY("last_visit_" + session_id)
if last_visit
  TALK "Welcome back! Last seen: " + last_visit
else
  TALK "Welcome! First time here?"
end
SET_BOT_MEMORY "last_visit_" + session_id, NOW()

' Progressive Disclosure: the more this session has talked, the more we show.
msg_count = GET "session.message_count"
if msg_count < 3
  TALK "I can help with basic questions."
else if msg_count < 10
  TALK "Try our advanced features: type 'export' to save this conversation."
else
  TALK "You're a power user! Type 'export' to save this conversation."
end

USE KB "guide"
HEAR name AS NAME WITH "What is your name?"
SET user_name = name
HEAR topic AS "Sessions", "Channels", "Nothing, thanks" WITH "Hi " + name + ", what would you like to know about?"
SET last_topic = topic
SELECT CASE topic
  CASE "Sessions"
    TALK "Every conversation has memory: I will remember you, {name}."
  CASE "Channels"
    TALK "The same dialog runs on the web, WhatsApp, Teams, email and voice."
  CASE ELSE
    TALK "Bye, {name}! Ask me anything later: I answer from my guide."
END SELECT
