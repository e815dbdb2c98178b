' Order: a plan, a quantity, an e-mail; order_step checkpoints let it resume after a break.
GET order_step
GET cart_plan
if order_step == "plan_chosen"
  TALK "Continuing your " + cart_plan + " order."
else
  HEAR plan AS "Starter", "Pro", "Enterprise" WITH "Which plan would you like?"
  SET cart_plan = plan
  SET order_step = "plan_chosen"
end

HEAR qty AS INTEGER WITH "How many seats?"
DO WHILE qty < 1 OR qty > 100
  HEAR qty AS INTEGER WITH "Please choose between 1 and 100 seats (more than 100: talk to a person)."
LOOP
SET cart_qty = qty

SELECT CASE cart_plan
  CASE "Starter"
    price = 10
  CASE "Pro"
    price = 25
  CASE ELSE
    price = 60
END SELECT
total = price * qty

HEAR buyer AS EMAIL WITH "Which e-mail should receive the invoice?"
SET buyer_email = buyer
HEAR confirm AS BOOLEAN WITH "Order " + qty + " x " + cart_plan + " for " + total + " USD per month. Confirm?"
if confirm
  SET order_step = "ordered"
  order_count = GET_BOT_MEMORY("order_count")
  SET_BOT_MEMORY "order_count", NVL(order_count, 0) + 1
  TALK "Thank you! The invoice goes to " + buyer + "."
else
  SET order_step = "cancelled"
  TALK "No problem, nothing was ordered."
end
