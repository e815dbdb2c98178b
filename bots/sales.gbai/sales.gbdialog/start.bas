' Sales: welcome back, progressive disclosure, the products KB, a menu.
session_id = GET "session.id"
last_visit = GET_BOT_MEMORY("sales_last_visit_" + session_id)
if last_visit
  TALK "Welcome back to Sales! Last seen: " + last_visit
else
  TALK "Welcome to Sales! First time here?"
end
SET_BOT_MEMORY "sales_last_visit_" + session_id, NOW()

msg_count = GET "session.message_count"
if msg_count < 3
  TALK "I can tell you about our plans and prices."
else if msg_count < 10
  TALK "Ready to buy? Type 'order' to place an order."
else
  TALK "You know your way around! Type 'order' any time."
end

' An order left half-way continues where it stopped.
GET order_step
if order_step == "plan_chosen"
  TALK "Your order is waiting: type 'order' to finish it."
end

USE KB "products"
HEAR interest AS "Plans and prices", "Place an order", "Just looking" WITH "What brings you here?"
SET sales_interest = interest
SELECT CASE interest
  CASE "Plans and prices"
    TALK "We have three plans: Starter, Pro and Enterprise. Ask me about any of them."
  CASE "Place an order"
    TALK "Type 'order' to start your order."
  CASE ELSE
    TALK "Take your time. Ask me anything about our products."
END SELECT
