FUNCTION f()
END FUNCTION
FUNCTION f()
END FUNCTION
' expect error: [syntax_duplicate_function.bas:3:10] Error at 'f': FUNCTION f is already defined at line 1
