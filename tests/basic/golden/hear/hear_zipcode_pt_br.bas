' HEAR AS ZIPCODE (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: 123
' input: 01310100
TALK "?"
HEAR answer AS ZIPCODE
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um CEP válido, como 01310-100.
' expect: got 01310-100
