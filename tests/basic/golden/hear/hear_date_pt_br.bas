' HEAR AS DATE (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: algum dia
' input: 05/11/2026
TALK "?"
HEAR answer AS DATE
TALK "got " + answer
' expect: ?
' expect: Por favor, informe uma data válida, como 25/11/2026.
' expect: got 2026-11-05
