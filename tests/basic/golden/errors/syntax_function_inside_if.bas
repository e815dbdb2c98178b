IF TRUE THEN
FUNCTION Twice(x)
  RETURN x * 2
END FUNCTION
END IF
' expect error: [syntax_function_inside_if.bas:2:1] Error at 'FUNCTION': FUNCTION Twice inside the IF at line 1 (missing END IF?)
