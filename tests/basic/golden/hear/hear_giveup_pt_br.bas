' language: pt-BR
' Depois de 3 respostas recusadas, HEAR desiste: a variável fica NULL.
' input: x
' input: y
' input: z
HEAR email AS EMAIL
TALK "email: [" + email + "]"
' expect: Por favor, informe um e-mail válido.
' expect: Por favor, informe um e-mail válido.
' expect: Desculpe, não consegui entender sua resposta.
' expect: email: []
