' HEAR AS PHONE (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: abc
' input: +55 (21) 3333-4444
TALK "?"
HEAR answer AS PHONE
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um número de telefone válido.
' expect: got +552133334444
