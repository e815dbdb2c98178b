x = 1 @ 2
' expect error: [syntax_unexpected_character.bas:1:7] Error at '@': unexpected character '@'
