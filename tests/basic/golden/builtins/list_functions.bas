' UBOUND PUSH CONTAINS SORT UNIQUE RANGE.
items = ["pear", "Apple", "fig"]
TALK UBOUND(items)
PUSH(items, "kiwi")
TALK JOIN(items, ",")
more = PUSH(items, "lime")
TALK LEN(more)
TALK CONTAINS(items, "apple")
TALK CONTAINS(items, "grape")
TALK CONTAINS("Hello World", "world")
TALK CONTAINS({"a": 1}, "a")
TALK JOIN(SORT(items), ",")
TALK JOIN(SORT([10, 2, 33, 4]), ",")
TALK JOIN(UNIQUE([1, 2, 1, 3, 2]), ",")
TALK JOIN(RANGE(4), ",")
TALK JOIN(RANGE(2, 6), ",")
TALK JOIN(RANGE(10, 0, -5), ",")
TALK UBOUND([])
' expect: 2
' expect: pear,Apple,fig,kiwi
' expect: 5
' expect: true
' expect: false
' expect: true
' expect: true
' expect: Apple,fig,kiwi,lime,pear
' expect: 2,4,10,33
' expect: 1,2,3
' expect: 0,1,2,3
' expect: 2,3,4,5,6
' expect: 10,5,0
' expect: -1
