' HEAR AS LANGUAGE (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: élfico
' input: inglês
TALK "?"
HEAR answer AS LANGUAGE
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um idioma, como português ou inglês.
' expect: got en
