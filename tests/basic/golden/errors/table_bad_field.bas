' A TABLE field line that is not a field is a syntax error at its line.
TABLE students
    Id uuid key
    Name string(255) SOMETIMES
END TABLE
TALK "never"
' expect error: [table_bad_field.bas:4:1] Error: TABLE students: unexpected 'SOMETIMES' in the field Name (expected KEY, PRIMARY KEY, NOT NULL, NULL, UNIQUE, DEFAULT value, REFERENCES table(column), CHECK (...) or GENERATED ALWAYS AS (...))
