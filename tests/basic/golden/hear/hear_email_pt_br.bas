' HEAR AS EMAIL (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: ana@
' input: ana@exemplo.com.br
TALK "?"
HEAR answer AS EMAIL
TALK "got " + answer
' expect: ?
' expect: Por favor, informe um e-mail válido.
' expect: got ana@exemplo.com.br
