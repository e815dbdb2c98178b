PARAM employee AS NAME LIKE "Ann Lee" DESCRIPTION "Who spent the money"
PARAM amount AS MONEY LIKE 120.50 DESCRIPTION "The amount spent"
PARAM category AS STRING LIKE "Travel" DESCRIPTION "Travel, Meals or Equipment"

DESCRIPTION "Expense approval: small amounts are approved at once, larger ones go to a manager or a director"

host = GET BOT MEMORY("api_host")

HEAR employee AS NAME WITH "Your name?"
HEAR category AS "Travel", "Meals", "Equipment" WITH "What kind of expense?"
HEAR amount AS MONEY WITH "How much did you spend?"

SELECT CASE category
    CASE "Meals"
        limit = 150
    CASE "Travel"
        limit = 2000
    CASE ELSE
        limit = 5000
END SELECT

ticket = ""
IF amount <= 0 THEN
    TALK "The amount must be more than zero."
    RETURN
ELSE IF amount > limit THEN
    status = "rejected"
ELSE IF amount < 100 THEN
    status = "approved"
ELSE
    IF amount < 1000 THEN
        approver = "manager"
    ELSE
        approver = "director"
    END IF
    status = "pending " + approver
    WITH request
        employee = employee
        category = category
        amount = amount
        approver = approver
    END WITH
    approval = POST host + "/approvals", request
    ticket = approval.ticket
END IF

WITH claim
    employee = employee
    category = category
    amount = amount
    status = status
    approval_ticket = ticket
END WITH
id = SAVE "expenses", claim

SELECT CASE status
    CASE "approved"
        TALK "Claim " + id + " for " + FORMAT(amount, "0.00") + " is approved. It will be paid with your salary."
    CASE "rejected"
        TALK "Claim " + id + " is over the " + category + " limit of " + FORMAT(limit, "0.00") + " and was rejected."
    CASE ELSE
        TALK "Claim " + id + " for " + FORMAT(amount, "0.00") + " waits for your " + approver + " (ticket " + ticket + ")."
END SELECT
