' DELETE written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
n = DELETE "sessions" WHERE user_id = user.id OR email = email
TALK "not reached"
' expect: [DELETE "sessions", {"$where": [["user_id", "=", 7], "OR", ["email", "=", "ann@example.com"]]}]
' expect error: [delete_where.bas:6:5] Error: DELETE: bot tables need a database, and this run has none
