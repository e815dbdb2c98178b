' DO WHILE ... LOOP, DO UNTIL ... LOOP, DO ... LOOP WHILE/UNTIL, WHILE ... WEND.
i = 0
DO WHILE i < 3
  i = i + 1
LOOP
TALK "while " + i
DO UNTIL i >= 6
  i = i + 2
LOOP
TALK "until " + i
j = 10
DO
  j = j + 1
LOOP WHILE j < 5
TALK "post-test runs once: " + j
DO
  j = j - 3
LOOP UNTIL j < 0
TALK "loop until " + j
k = 1
WHILE k < 100
  k = k * 3
WEND
TALK "wend " + k
' expect: while 3
' expect: until 7
' expect: post-test runs once: 11
' expect: loop until -1
' expect: wend 243
