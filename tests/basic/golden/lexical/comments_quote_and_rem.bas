' A quote starts a comment, also after code.
TALK "a"   ' this is ignored
REM a REM comment
rem lower-case rem
REM
x = 1 ' x is one
TALK x ' TALK "not said"
' expect: a
' expect: 1
