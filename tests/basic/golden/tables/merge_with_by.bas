' MERGE written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
MERGE "Customers" With [user] BY "Id"
TALK "not reached"
' expect: [MERGE "Customers", [{"id": 7}], "Id"]
' expect error: [merge_with_by.bas:6:1] Error: MERGE: bot tables need a database, and this run has none
