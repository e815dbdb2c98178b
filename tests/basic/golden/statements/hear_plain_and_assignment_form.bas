' HEAR x and x = HEAR take the next message as text.
' input: Ann
' input: 42
TALK "Name?"
HEAR name
TALK "Age?"
age = HEAR
TALK name + " is " + age
TALK TYPEOF(age)
' expect: Name?
' expect: Age?
' expect: Ann is 42
' expect: string
