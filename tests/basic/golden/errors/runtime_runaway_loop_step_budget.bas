' An endless loop is stopped by the step budget (200,000 in the tests), naming the loop's line.
x = 0
DO WHILE TRUE
  x = x + 1
LOOP
' expect error: [runtime_runaway_loop_step_budget.bas:3:1] Error: the dialog ran more than 200,000 steps for one message (an endless loop?)
