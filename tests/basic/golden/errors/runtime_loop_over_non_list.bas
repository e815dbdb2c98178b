FOR EACH x IN 5
  TALK x
NEXT
' expect error: [runtime_loop_over_non_list.bas:1:1] Error: cannot loop over integer 5
