' HEAR AS BOOLEAN (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: talvez
' input: não
TALK "?"
HEAR answer AS BOOLEAN
TALK "got " + answer
' expect: ?
' expect: Por favor, responda sim ou não.
' expect: got false
