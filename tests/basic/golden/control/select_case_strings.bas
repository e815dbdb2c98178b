' SELECT CASE on text.
cmd = "help"
SELECT CASE cmd
  CASE "start", "begin"
    TALK "starting"
  CASE "help"
    TALK "helping"
END SELECT
SELECT CASE "none"
  CASE "a"
    TALK "a"
END SELECT
TALK "done"
' expect: helping
' expect: done
