PARAM email AS EMAIL LIKE "ann@example.com" DESCRIPTION "E-mail address the receipt goes to"

DESCRIPTION "Store checkout: put products in a cart, price them from the catalog API and place the order"

host = GET BOT MEMORY("api_host")
cartid = GET "session.id"

TALK "Welcome to the store! Type a product code to add it to your cart, or DONE to check out."
DO
    HEAR sku
    sku = UCASE(TRIM(sku))
    IF sku = "DONE" THEN
        EXIT DO
    END IF
    ' gb binds GET to the operand after it (GET host + "/x" is (GET host) + "/x"): the URL in parentheses
    product = GET (host + "/catalog/" + sku)
    IF NOT product.found THEN
        TALK "There is no product " + sku + ". Try another code."
    ELSE
        HEAR qty AS INTEGER WITH "How many " + product.name + " (" + FORMAT(product.price, "0.00") + " each)?"
        WITH item
            cart_id = cartid
            sku = sku
            name = product.name
            quantity = qty
            unit_price = product.price
        END WITH
        SAVE "cart_items", item
        TALK "Added " + qty + " x " + product.name + ". Next code, or DONE."
    END IF
LOOP

items = FIND "cart_items", "cart_id=" + cartid
IF COUNT(items) = 0 THEN
    TALK "Your cart is empty. See you next time!"
    RETURN
END IF

total = 0
FOR EACH item IN items
    total = total + item.quantity * item.unit_price
NEXT
TALK "Your cart: " + COUNT(items) + " product(s), total " + FORMAT(total, "0.00") + "."

IF ISEMPTY(email) THEN
    HEAR email AS EMAIL WITH "Your e-mail for the receipt?"
END IF

WITH payment
    cart = cartid
    amount = total
    customer = email
END WITH
receipt = POST host + "/payments", payment

WITH order
    order_number = receipt.order_number
    cart_id = cartid
    customer_email = email
    total = total
END WITH
SAVE "orders", order

SET BOT MEMORY "last_order", receipt.order_number
TALK "Order " + receipt.order_number + " placed. A receipt goes to " + email + "."
ADD SUGGESTION "track" AS "Track my order"
