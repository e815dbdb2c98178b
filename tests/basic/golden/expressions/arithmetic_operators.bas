' + - * / \ MOD ^ and their precedence.
TALK 7 \ 2
TALK -7 \ 2
TALK 7 MOD 3
TALK -7 MOD 3
TALK 2 ^ 10
TALK 2 ^ 0.5 > 1.41
TALK 1 + 2 * 3
TALK (1 + 2) * 3
TALK 2 * 3 ^ 2
TALK 10 - 4 - 3
TALK 100 / 10 / 5
TALK -2 ^ 2
' expect: 3
' expect: -3
' expect: 1
' expect: -1
' expect: 1024
' expect: true
' expect: 7
' expect: 9
' expect: 18
' expect: 3
' expect: 2
' expect: -4
