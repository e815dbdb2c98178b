x = 0
top:
x = x + 1
GOTO top
' expect error: [runtime_runaway_goto_step_budget.bas:4:1] Error: the dialog ran more than 200,000 steps for one message (an endless loop?)
