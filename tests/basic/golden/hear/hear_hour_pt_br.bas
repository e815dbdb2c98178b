' HEAR AS HOUR (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: tarde
' input: 9h15
TALK "?"
HEAR answer AS HOUR
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um horário, como 14:30.
' expect: got 09:15
