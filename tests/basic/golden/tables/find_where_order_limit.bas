' FIND written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
rows = FIND "users" WHERE email = email AND age > 17 + 1 ORDER BY created_at DESC, name LIMIT 2 + 3
TALK "not reached"
' expect: [FIND "users", {"$where": [["email", "=", "ann@example.com"], ["age", ">", 18]], "$order": [["created_at", "DESC"], ["name", "ASC"]], "$limit": 5}]
' expect error: [find_where_order_limit.bas:6:8] Error: FIND: bot tables need a database, and this run has none
