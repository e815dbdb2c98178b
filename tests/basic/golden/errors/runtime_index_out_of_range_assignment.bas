a = [1, 2]
a[5] = 9
' expect error: [runtime_index_out_of_range_assignment.bas:2:1] Error: index 5 is out of range (the list has 2 items)
