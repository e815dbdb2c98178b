' Function variables are local; recursion works.
x = "outer"
FUNCTION Fact(n)
  x = "inner"
  IF n <= 1 THEN RETURN 1
  RETURN n * Fact(n - 1)
END FUNCTION
TALK Fact(10)
TALK x
' expect: 3628800
' expect: outer
