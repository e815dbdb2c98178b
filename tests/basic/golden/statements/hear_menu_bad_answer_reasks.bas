' A menu answer that is not a choice is refused with the list of choices.
' input: purple
' input: 7
' input: 2
HEAR color AS "red", "green", "blue"
TALK "You chose " + color
' expect: (choices: red | green | blue)
' expect: Please choose one of: red, green, blue.
' expect: Please choose one of: red, green, blue.
' expect: You chose green
