' SET_BOT_MEMORY key, value and GET_BOT_MEMORY(key), also GET BOT MEMORY as a function.
SET_BOT_MEMORY "visits", 1
v = GET_BOT_MEMORY("visits")
TALK "visits: " + v
SET BOT MEMORY "visits", v + 1
TALK "now: " + GET_BOT_MEMORY("visits")
missing = GET_BOT_MEMORY("nothing")
IF missing IS NULL THEN TALK "no value"
' expect: [SET BOT MEMORY "visits", 1]
' expect: [GET BOT MEMORY "visits"]
' expect: visits: 1
' expect: [SET BOT MEMORY "visits", 2]
' expect: [GET BOT MEMORY "visits"]
' expect: now: 2
' expect: [GET BOT MEMORY "nothing"]
' expect: no value
