' Support: a session template, welcome back, resume a refund, a menu.
LOAD_TEMPLATE "customer_support"
session_id = GET "session.id"
last_visit = GET_BOT_MEMORY("support_last_visit_" + session_id)
if last_visit
  TALK "Welcome back to Support! Last seen: " + last_visit
else
  TALK "Welcome to Support! First time here?"
end
SET_BOT_MEMORY "support_last_visit_" + session_id, NOW()

' Session Persistence: a refund left half-way continues where it stopped.
GET checkpoint
if checkpoint == "refund_order_known"
  TALK "Let's continue your refund: type 'refund' to finish it."
end

USE KB "policies"
HEAR need AS "Returns", "Shipping", "Refund", "Something else" WITH "How can I help?"
SET support_topic = need
SELECT CASE need
  CASE "Returns"
    TALK "You can return any item within 30 days of delivery. Ask me anything about returns."
  CASE "Shipping"
    TALK "Orders ship within 2 business days. Ask me about delivery times or costs."
  CASE "Refund"
    TALK "Type 'refund' to start a refund."
  CASE ELSE
    TALK "Tell me what you need, in your own words."
END SELECT
