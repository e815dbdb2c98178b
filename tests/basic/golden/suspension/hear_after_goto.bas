' A HEAR in a GOTO loop: ask until the answer is "done".
' input: x
' input: y
' input: done
count = 0
ask:
HEAR word
IF word <> "done" THEN
  count = count + 1
  GOTO ask
END IF
TALK count + " words"
' expect: 2 words
