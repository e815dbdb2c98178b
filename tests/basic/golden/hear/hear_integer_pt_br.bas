' HEAR AS INTEGER (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: dez
' input: -7
TALK "?"
HEAR answer AS INTEGER
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um número inteiro, como 42.
' expect: got -7
