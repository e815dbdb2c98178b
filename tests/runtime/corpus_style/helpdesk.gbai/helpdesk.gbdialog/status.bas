PARAM ticket_id AS INTEGER LIKE 42 DESCRIPTION "The ticket number"

DESCRIPTION "Look up a helpdesk ticket's status by its number"

tries = 0
DO WHILE tries < 3
    HEAR ticket_id AS INTEGER WITH "What is the ticket number?"
    found = FIND "tickets", "id=" + ticket_id
    IF COUNT(found) > 0 THEN
        EXIT DO
    END IF
    TALK "There is no ticket #" + ticket_id + "."
    tries = tries + 1
LOOP

IF COUNT(found) = 0 THEN
    TALK "Please write to help@example.com and we will find it for you."
ELSE
    t = FIRST(found)
    TALK "Ticket #" + t.id + ": " + t.subject
    TALK "Status: " + t.status + " (" + t.category + ", " + t.priority + " priority)."
END IF
