PARAM email AS EMAIL LIKE "ann@example.com" DESCRIPTION "Who the answer goes to"
PARAM subject AS STRING LIKE "I cannot log in" DESCRIPTION "The problem, in one sentence"

DESCRIPTION "Open a helpdesk ticket: classify the problem with the classifier API and save the ticket"

host = GET BOT MEMORY("api_host")

TALK "Hello! I will open a support ticket for you."
IF ISEMPTY(email) THEN
    HEAR email AS EMAIL WITH "What is your e-mail address?"
END IF
IF ISEMPTY(subject) THEN
    HEAR subject WITH "Please describe the problem in one sentence."
END IF

WITH request
    text = subject
    language = "en"
END WITH
label = POST host + "/classify", request

WITH ticket
    email = email
    subject = subject
    category = label.category
    priority = label.priority
END WITH
id = SAVE "tickets", ticket
SET BOT MEMORY "last_ticket", id

TALK "Ticket #" + id + " is open: " + label.category + ", " + label.priority + " priority."
IF label.priority = "high" THEN
    TALK "An agent will call you within the hour."
ELSE
    TALK "We will answer by e-mail within one working day."
END IF

CLEAR SUGGESTIONS
ADD SUGGESTION "status" AS "Check a ticket"
ADD SUGGESTION "feedback" AS "Rate our service"
