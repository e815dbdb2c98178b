PARAM email AS EMAIL LIKE "ann@acme.com" DESCRIPTION "The subscriber's e-mail"

DESCRIPTION "Newsletter: subscribe or unsubscribe an e-mail address, here and at the mailing service"

host = GET BOT MEMORY("api_host")

HEAR action AS "Subscribe", "Unsubscribe" WITH "Do you want to subscribe to our newsletter or unsubscribe?"
HEAR email AS EMAIL WITH "Your e-mail address?"
found = FIND "subscribers", "email", email

SELECT CASE action
    CASE "Subscribe"
        IF COUNT(found) > 0 THEN
            TALK email + " is already subscribed."
        ELSE
            HEAR topics AS "News", "Offers", "Both" WITH "What would you like to receive?"
            WITH subscriber
                email = email
                topics = LCASE(topics)
            END WITH
            SAVE "subscribers", subscriber
            POST host + "/mailing/members", subscriber
            TALK "Subscribed! You will receive " + LCASE(topics) + " at " + email + "."
        END IF
    CASE "Unsubscribe"
        removed = DELETE "subscribers", "email=" + email
        IF removed = 0 THEN
            TALK email + " was not subscribed."
        ELSE
            DELETE host + "/mailing/members/" + email
            TALK "Done: " + email + " will receive no more e-mails from us."
        END IF
END SELECT
