' Assignment, TALK and PRINT.
a = 2
b = a * 3
greeting = "Hello"
TALK greeting
PRINT b
TALK greeting, "world"
' expect: Hello
' expect: 6
' expect: Hello world
