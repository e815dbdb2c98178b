' FIND written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
rows = FIND "t" WHERE closed_at IS NULL AND kind IN ("a", q) AND x IS NOT NULL
TALK "not reached"
' expect: [FIND "t", {"$where": [["closed_at", "IS NULL", null], ["kind", "IN", ["a", "tea"]], ["x", "IS NOT NULL", null]]}]
' expect error: [find_where_null_and_in.bas:6:8] Error: FIND: bot tables need a database, and this run has none
