' Rastrear: the number of an order, asked and kept in the session.
HEAR pedido AS INTEGER WITH "Qual o número do seu pedido?"
SET loja_pedido = pedido
TALK "O pedido " + pedido + " está a caminho: o código de rastreamento foi enviado por e-mail e WhatsApp."
