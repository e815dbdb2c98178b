FUNCTION Add(a, b)
  RETURN a + b
END FUNCTION
TALK Add(1)
' expect error: [runtime_function_wrong_argument_count.bas:4:6] Error at 'Add': Add takes 2 argument(s), got 1
