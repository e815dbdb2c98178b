FUNCTION Down(n)
  RETURN Down(n + 1)
END FUNCTION
TALK Down(1)
' expect error: [runtime_endless_recursion.bas:2:3] Error: too many nested calls (endless recursion?)
