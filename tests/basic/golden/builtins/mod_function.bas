' MOD is an operator and also a built-in function MOD(a, b).
TALK MOD(10, 3)
TALK mod(-7, 3)
TALK 10 MOD 4
' expect: 1
' expect: -1
' expect: 2
