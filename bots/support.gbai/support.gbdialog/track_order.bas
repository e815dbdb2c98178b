' A tool (see the customer_support template): the LLM may call it with an order number.
PARAM order_id AS INTEGER LIKE 12345 DESCRIPTION "The order number printed on the receipt"
DESCRIPTION "Tells where an order is"
if order_id
  TALK "Order " + order_id + " has shipped and should arrive within 5 business days."
else
  HEAR order_id AS INTEGER WITH "What is your order number?"
  TALK "Order " + order_id + " has shipped and should arrive within 5 business days."
end
