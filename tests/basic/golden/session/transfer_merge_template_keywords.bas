' The seed's session keywords are requests to the host.
LOAD_TEMPLATE "customer_support"
TRANSFER_SESSION "email"
MERGE_SESSION "anon-1", "user-9"
USE KB "policies"
TALK "done"
' expect: [LOAD TEMPLATE "customer_support"]
' expect: [TRANSFER SESSION "email"]
' expect: [MERGE SESSION "anon-1", "user-9"]
' expect: [USE KB "policies"]
' expect: done
