' General Bots writes a WITH block's fields without the dot: `name = value` directly in the block
' sets the field (as written, case kept); the value is read from the variables as usual.
id = 7
name = "Ann"
WITH student
    id = id
    name = name
    registeredAt = "2026-11-25"
    IF id > 5 THEN
        senior = TRUE
    END IF
END WITH
TALK TOJSON(student)
TALK "senior is a variable: " + senior
' expect: {"id":7,"name":"Ann","registeredAt":"2026-11-25"}
' expect: senior is a variable: true
