' TALK TO sends a message to another address.
boss = "boss@example.com"
TALK TO boss, "New order received"
TALK TO "+5511999998888", "Order " + 42 + " shipped"
TALK "done"
' expect: (to boss@example.com) New order received
' expect: (to +5511999998888) Order 42 shipped
' expect: done
