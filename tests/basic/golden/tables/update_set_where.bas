' UPDATE written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
UPDATE "accounts" SET
    name = "Ann " + "Lee",
    visits = user.id + 1
WHERE id = user.id
TALK "not reached"
' expect: [UPDATE "accounts", {"$where": [["id", "=", 7]]}, {"name": "Ann Lee", "visits": 8}]
' expect error: [update_set_where.bas:6:1] Error: UPDATE: bot tables need a database, and this run has none
