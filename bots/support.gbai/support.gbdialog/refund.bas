' Refund: an order number, an e-mail, a reason; checkpoints let it resume after a break.
USE KB "policies"
GET checkpoint
GET refund_order
if checkpoint == "refund_order_known"
  TALK "Continuing the refund for order " + refund_order + "."
else
  HEAR order_number AS INTEGER WITH "What is your order number?"
  SET refund_order = order_number
  SET checkpoint = "refund_order_known"
end

HEAR email AS EMAIL WITH "Which e-mail address did you order with?"
SET customer_email = email
HEAR reason AS "Damaged", "Wrong item", "Changed my mind" WITH "Why are you returning it?"
SET checkpoint = "refund_requested"
SET_BOT_MEMORY "refund_" + refund_order, email + ": " + reason
TALK "Thanks! Refund for order " + refund_order + " requested (" + reason + ")."
TALK "We will confirm by e-mail to " + email + " within 5 business days."
