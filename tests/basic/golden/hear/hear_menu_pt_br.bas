' language: pt-BR
' Menu em português: resposta sem acento e por número.
' input: nao sei
' input: 5
' input: 2
HEAR opcao AS "Sim", "Não sei", "Talvez"
TALK "Escolheu " + opcao
HEAR outra AS "Sim", "Não sei", "Talvez"
TALK "Depois " + outra
' expect: (choices: Sim | Não sei | Talvez)
' expect: Escolheu Não sei
' expect: (choices: Sim | Não sei | Talvez)
' expect: Por favor, escolha uma das opções: Sim, Não sei, Talvez.
' expect: Depois Não sei
