' Bot memory set in one turn is saved with it: the next turn reads it back from the store.
' input: yes
SET_BOT_MEMORY "plan", "gold"
TALK "plan: " + GET_BOT_MEMORY("plan")
HEAR ok
TALK "still " + GET_BOT_MEMORY("plan")
' expect: [SET BOT MEMORY "plan", "gold"]
' expect: [GET BOT MEMORY "plan"]
' expect: plan: gold
' expect: [GET BOT MEMORY "plan"]
' expect: still gold
