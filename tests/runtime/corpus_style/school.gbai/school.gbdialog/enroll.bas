PARAM course AS STRING LIKE "PY101" DESCRIPTION "The code of the course"
PARAM email AS EMAIL LIKE "ann@example.com" DESCRIPTION "The student's e-mail address"

DESCRIPTION "Course enrollment: check the course has a free seat, register the student, enroll and open an LMS account"

host = GET BOT MEMORY("api_host")

courses = FIND "courses", "capacity > 0 ORDER BY code"
TALK "We have " + COUNT(courses) + " courses open:"
FOR EACH c IN courses
    TALK c.code + " - " + c.title + " (starts " + FORMAT_DATE(c.starts_on, "dd/MM/yyyy") + ")"
NEXT

HEAR course WITH "Which course code?"
course = UCASE(TRIM(course))
chosen = FILTER courses, "code = '" + course + "'"
IF COUNT(chosen) = 0 THEN
    TALK "There is no course " + course + "."
    RETURN
END IF
c = FIRST(chosen)

taken = FIND "enrollments", "course_code=" + course
IF COUNT(taken) >= c.capacity THEN
    TALK "Sorry, " + c.title + " is full (" + c.capacity + " seats)."
    RETURN
END IF

HEAR email AS EMAIL WITH "Your e-mail address?"
known = FIND "students", "email", email
IF COUNT(known) = 0 THEN
    HEAR name AS NAME WITH "Your full name?"
    HEAR born AS DATE WITH "Your date of birth?"
    WITH student
        name = name
        email = email
        birth_date = born
    END WITH
    studentid = SAVE "students", student
ELSE
    s = FIRST(known)
    name = s.name
    studentid = s.id
    TALK "Welcome back, " + name + "!"
END IF

mine = FIND "enrollments", "course_code = '" + course + "' AND student_id = '" + studentid + "'"
IF COUNT(mine) > 0 THEN
    TALK "You are already enrolled in " + c.title + "."
    RETURN
END IF

WITH account
    name = name
    email = email
    course = course
END WITH
lms = POST host + "/lms/accounts", account

WITH enrollment
    course_code = course
    student_id = studentid
    lms_login = lms.login
END WITH
SAVE "enrollments", enrollment

seats = c.capacity - COUNT(taken) - 1
TALK "Done, " + name + ": you are enrolled in " + c.title + ". Your LMS login is " + lms.login + "."
TALK seats + " seat(s) left."
