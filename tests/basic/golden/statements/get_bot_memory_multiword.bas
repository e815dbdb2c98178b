' GET BOT MEMORY "k" as an expression, the spaced form of GET_BOT_MEMORY(k).
SET BOT MEMORY "plan", "gold"
plan = GET BOT MEMORY "plan"
TALK "plan: " + plan
' expect: [SET BOT MEMORY "plan", "gold"]
' expect: [GET BOT MEMORY "plan"]
' expect: plan: gold
