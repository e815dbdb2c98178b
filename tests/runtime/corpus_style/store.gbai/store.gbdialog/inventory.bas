PARAM sku AS STRING LIKE "A100" DESCRIPTION "Product code to update"
PARAM qty AS INTEGER LIKE 10 DESCRIPTION "Units sold or received"

DESCRIPTION "Stock update: record units sold or received, and alert purchasing when a product runs low"

host = GET BOT MEMORY("api_host")

HEAR sku WITH "Which product code?"
sku = UCASE(TRIM(sku))
found = FIND "stock", "sku=" + sku
IF COUNT(found) = 0 THEN
    TALK "There is no product " + sku + " in stock."
    RETURN
END IF
item = FIRST(found)

HEAR movement AS "Sold", "Received" WITH item.name + ": " + item.quantity + " in stock. Sold or received?"
HEAR qty AS INTEGER WITH "How many units?"

IF movement = "Sold" THEN
    IF qty > item.quantity THEN
        TALK "Only " + item.quantity + " units of " + item.name + " are in stock; nothing was changed."
        RETURN
    END IF
    newqty = item.quantity - qty
ELSE
    newqty = item.quantity + qty
END IF

WITH changes
    quantity = newqty
    updated_at = NOW()
END WITH
changed = UPDATE "stock", "sku=" + sku, changes
TALK item.name + ": " + newqty + " in stock (" + changed + " product updated)."

IF newqty < item.minimum THEN
    WITH alert
        sku = sku
        name = item.name
        quantity = newqty
        minimum = item.minimum
    END WITH
    POST host + "/alerts", alert
    TALK "That is below the minimum of " + item.minimum + ": purchasing has been alerted."
END IF
