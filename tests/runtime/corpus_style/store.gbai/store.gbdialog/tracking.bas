PARAM order_number AS STRING LIKE "ORD-1001" DESCRIPTION "The order number printed on the receipt"

DESCRIPTION "Order tracking: find the order and ask the carrier's API where the parcel is"

host = GET BOT MEMORY("api_host")

IF ISEMPTY(order_number) THEN
    HEAR order_number WITH "What is your order number?"
END IF
order_number = UCASE(TRIM(order_number))

orders = FIND "orders", "order_number=" + order_number
order = FIRST(orders)
IF ISNULL(order) THEN
    TALK "I could not find the order " + order_number + ". Please check the number on your receipt."
    RETURN
END IF

IF ISEMPTY(order.tracking_code) THEN
    TALK "Order " + order_number + " is " + order.status + " and has not been shipped yet."
    RETURN
END IF

SET HEADER "Authorization", "Bearer " + GET BOT MEMORY("api_key")
SET HEADER "Accept", "application/json"
' gb binds GET to the operand after it (GET host + "/x" is (GET host) + "/x"): the URL in parentheses
shipment = GET (host + "/carrier/" + order.carrier + "/" + order.tracking_code)
CLEAR HEADERS

TALK "Order " + order_number + " is " + shipment.status + " with " + order.carrier + "."
IF shipment.status = "delivered" THEN
    UPDATE "orders", order.id, "status", "delivered"
    TALK "It was delivered on " + shipment.delivered_on + "."
ELSE
    TALK "Last seen in " + shipment.location + ", expected on " + shipment.eta + "."
END IF
