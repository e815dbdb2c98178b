' HEAR x AS type WITH "prompt" says the prompt, then waits.
' input: 7
HEAR qty AS INTEGER WITH "How many?"
TALK "qty=" + qty
TALK TYPEOF(qty)
' expect: How many?
' expect: qty=7
' expect: integer
