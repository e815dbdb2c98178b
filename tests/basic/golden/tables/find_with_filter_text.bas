' FIND written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
cached = FIND "products" WITH "name LIKE '%" + q + "%'"
TALK "not reached"
' expect: [FIND "products", "name LIKE '%tea%'"]
' expect error: [find_with_filter_text.bas:6:10] Error: FIND: bot tables need a database, and this run has none
