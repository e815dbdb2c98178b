' main is the dialog itself: no FUNCTION or SUB may take its name.
FUNCTION main(a)
  main = a
END FUNCTION
' expect error: [syntax_function_named_main.bas:2:10] Error at 'main': FUNCTION main: main is the dialog itself and takes no parameters; give the FUNCTION another name
