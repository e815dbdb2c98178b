' HEAR AS NUMBER (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: três
' input: 3,5
TALK "?"
HEAR answer AS NUMBER
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um número, como 3,5.
' expect: got 3.5
