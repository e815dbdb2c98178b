' The first dialog: TALK and HEAR.
' input: Ann
TALK "What is your name?"       ' expect: What is your name?
name = HEAR
TALK "Hello, " + name + "!"     ' expect: Hello, Ann!
