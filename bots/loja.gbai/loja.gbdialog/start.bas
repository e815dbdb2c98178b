' Loja: a pt-BR bot; a question no dialog handles is answered from the "ajuda" KB.
USE KB "ajuda"
SET loja_inicio = NOW()
TALK "Olá! Pergunte sobre entregas, trocas, pagamentos ou a sua conta. Para saber de um pedido, digite rastrear."
