' MIN MAX SUM AVG COUNT, on arguments and on lists.
TALK MIN(3, 1, 2)
TALK MAX(3, 1, 2)
TALK MIN([5, 4, 9])
TALK MAX(["b", "a", "c"])
TALK SUM(1, 2, 3)
TALK SUM([1.5, 2.5])
TALK AVG(1, 2, 3, 4)
TALK AVG([2, 4])
TALK COUNT([1, 2, 3])
TALK COUNT(NULL)
' expect: 1
' expect: 3
' expect: 4
' expect: c
' expect: 6
' expect: 4
' expect: 2.5
' expect: 3
' expect: 3
' expect: 0
