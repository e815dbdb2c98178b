PARAM score AS INTEGER LIKE 9 DESCRIPTION "How likely the customer is to recommend us, 0 to 10"

DESCRIPTION "Customer feedback: the NPS score and a comment, saved, and the running average"

HEAR score AS INTEGER WITH "From 0 to 10, how likely are you to recommend us to a friend?"
DO WHILE score < 0 OR score > 10
    HEAR score AS INTEGER WITH "Please answer with a number from 0 to 10."
LOOP

SELECT CASE score
    CASE 9, 10
        grade = "promoter"
    CASE 7, 8
        grade = "passive"
    CASE ELSE
        grade = "detractor"
END SELECT

HEAR comment WITH "Thank you! What is the main reason for your score?"

WITH answer
    score = score
    grade = grade
    comment = comment
END WITH
SAVE "feedback", answer

answers = FIND "feedback"
total = 0
promoters = 0
detractors = 0
FOR EACH a IN answers
    total = total + a.score
    IF a.grade = "promoter" THEN
        promoters = promoters + 1
    ELSE IF a.grade = "detractor" THEN
        detractors = detractors + 1
    END IF
NEXT
average = total / COUNT(answers)
nps = ROUND((promoters - detractors) * 100 / COUNT(answers))
TALK "Thanks for your feedback! Average " + FORMAT(average, "0.0") + " from " + COUNT(answers) + " answers, NPS " + nps + "."
