' HEAR AS MOBILE (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: 9999
' input: +55 11 99999-8888
TALK "?"
HEAR answer AS MOBILE
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um número de celular válido, com DDD.
' expect: got +5511999998888
