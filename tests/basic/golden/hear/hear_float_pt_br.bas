' HEAR AS FLOAT (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: x
' input: 0,75
TALK "?"
HEAR answer AS FLOAT
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um número, como 3,5.
' expect: got 0.75
