' HEAR AS NAME (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: @@
' input: João da Silva
TALK "?"
HEAR answer AS NAME
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um nome válido, usando apenas letras.
' expect: got João da Silva
