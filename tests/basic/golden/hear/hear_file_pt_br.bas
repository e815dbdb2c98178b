' HEAR AS FILE (pt-BR): a bad answer is refused with a re-ask message, then a good one is kept.
' language: pt-BR
' input: oi
' input: https://exemplo.com.br/docs/contrato.docx
TALK "?"
HEAR answer AS FILE
TALK "got " + answer.name
' expect: ?
' expect: Por favor, envie um arquivo.
' expect: got contrato.docx
