' ISNULL ISEMPTY ISNUMERIC TYPEOF IIF NVL.
TALK ISNULL(NULL)
TALK ISNULL("")
TALK ISEMPTY("")
TALK ISEMPTY([])
TALK ISEMPTY("x")
TALK ISNUMERIC("3.5")
TALK ISNUMERIC("abc")
TALK ISNUMERIC(7)
TALK TYPEOF([1]) + " " + TYPEOF({"a": 1}) + " " + TYPEOF(NOW())
TALK IIF(2 > 1, "yes", "no")
TALK IIF("", "yes", "no")
TALK NVL(NULL, "default")
TALK NVL("set", "default")
' expect: true
' expect: false
' expect: true
' expect: true
' expect: false
' expect: true
' expect: false
' expect: true
' expect: list object date
' expect: yes
' expect: no
' expect: default
' expect: set
