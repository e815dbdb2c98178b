ON LOGIN
END
ON LOGIN
END
' expect error: [syntax_second_on_login.bas:3:1] Error: a second ON LOGIN (the first is at line 1)
