' label: and GOTO, forward and backward.
n = 0
again:
n = n + 1
IF n < 3 THEN GOTO again
TALK "n=" + n
GOTO finish
TALK "skipped"
finish:
TALK "done"
' expect: n=3
' expect: done
