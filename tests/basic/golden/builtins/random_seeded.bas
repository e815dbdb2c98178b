' RND and RANDOM use the seeded generator (random.Random(7) in the tests).
r = RND()
TALK INT(r * 100)
TALK RANDOM(1, 10)
x = RANDOM(5, 5)
TALK x
r2 = RND()
IF r2 >= 0 AND r2 < 1 THEN TALK "in range"
' expect: 32
' expect: 3
' expect: 5
' expect: in range
