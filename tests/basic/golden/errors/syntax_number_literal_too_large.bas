' A number beyond the largest float is an error at the literal, not an infinity.
x = 1e999
' expect error: [syntax_number_literal_too_large.bas:2:5] Error at '1e999': number too large: 1e999 is beyond the largest number (about 1.8e308)
