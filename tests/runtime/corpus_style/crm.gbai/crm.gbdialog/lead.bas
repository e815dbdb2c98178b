PARAM name AS NAME LIKE "Ann Lee" DESCRIPTION "The contact's full name"
PARAM email AS EMAIL LIKE "ann@acme.com" DESCRIPTION "The contact's work e-mail"
PARAM company AS STRING LIKE "Acme" DESCRIPTION "The contact's company"

DESCRIPTION "Lead capture: take the contact, skip a known one, score it with the scoring API and save it"

host = GET BOT MEMORY("api_host")

TALK "Great that you are interested! A few questions and a specialist will contact you."
HEAR name AS NAME WITH "What is your name?"
HEAR email AS EMAIL WITH "Your work e-mail?"

known = FIND "leads", "email=" + email
IF COUNT(known) > 0 THEN
    lead = FIRST(known)
    TALK "We already have your details, " + lead.name + ": your lead is " + lead.stage + ". A specialist will be in touch."
    RETURN
END IF

HEAR company WITH "Which company do you work for?"
HEAR employees AS INTEGER WITH "How many employees does " + company + " have?"

SET HEADER "X-Api-Key", GET BOT MEMORY("api_key")
WITH profile
    email = email
    company = company
    employees = employees
END WITH
rating = POST host + "/score", profile
CLEAR HEADERS

IF rating.score >= 70 THEN
    stage = "hot"
ELSE IF rating.score >= 40 THEN
    stage = "warm"
ELSE
    stage = "cold"
END IF

WITH lead
    name = name
    email = email
    company = company
    employees = employees
    score = rating.score
    stage = stage
END WITH
SAVE "leads", lead
SET BOT MEMORY "last_contact", email

TALK "Thank you, " + name + "! Your lead scored " + rating.score + " (" + stage + ")."
IF stage = "hot" THEN
    TALK "A specialist will call you today."
ELSE
    TALK "We will send you material about our plans."
END IF
