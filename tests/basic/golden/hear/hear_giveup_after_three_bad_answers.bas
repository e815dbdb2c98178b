' After 3 refused answers HEAR gives up: the variable is NULL and the dialog goes on.
' input: one
' input: two
' input: three
HEAR age AS INTEGER
IF age IS NULL THEN TALK "no age"
' expect: Please enter a whole number, like 42.
' expect: Please enter a whole number, like 42.
' expect: Sorry, I could not understand your answer.
' expect: no age
