' HEAR AS MONEY (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: muito
' input: R$ 1.234,56
TALK "?"
HEAR answer AS MONEY
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um valor em dinheiro, como R$ 1.234,56.
' expect: got 1234.56
