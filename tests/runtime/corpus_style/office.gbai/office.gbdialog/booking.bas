PARAM service AS STRING LIKE "Haircut" DESCRIPTION "The service to book"
PARAM day AS DATE LIKE "2030-03-04" DESCRIPTION "The day of the appointment"
PARAM hour AS HOUR LIKE "10:00" DESCRIPTION "The time of the appointment"

DESCRIPTION "Appointment booking: a service, a day and an hour that is free, saved for the front desk"

host = GET BOT MEMORY("api_host")

HEAR service AS "Haircut", "Beard", "Both" WITH "Which service would you like to book?"

HEAR day AS DATE WITH "Which day?"
DO WHILE WEEKDAY(day) = 1
    HEAR day AS DATE WITH "We are closed on Sundays. Another day?"
LOOP

booked = FALSE
DO WHILE NOT booked
    HEAR hour AS HOUR WITH "At what time? We are open from 09:00 to 18:00."
    IF HOUR(hour) < 9 OR HOUR(hour) >= 18 THEN
        TALK hour + " is outside our opening hours."
    ELSE
        WITH slot
            day = day
            hour = hour
        END WITH
        taken = FIND "appointments", slot
        IF COUNT(taken) > 0 THEN
            TALK hour + " on " + FORMAT_DATE(day, "dd/MM/yyyy") + " is taken."
        ELSE
            booked = TRUE
        END IF
    END IF
LOOP

HEAR customer AS NAME WITH "Your name, please?"
WITH appointment
    customer = customer
    service = service
    day = day
    hour = hour
END WITH
SAVE "appointments", appointment
reminder = POST host + "/reminders", appointment

TALK "Booked: " + service + " for " + customer + " on " + FORMAT_DATE(day, "dd/MM/yyyy") + " at " + hour + "."
TALK "A reminder is scheduled for " + reminder.send_at + "."
