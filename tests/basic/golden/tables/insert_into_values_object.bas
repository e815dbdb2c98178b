' INSERT INTO written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
INSERT INTO "privacy_requests" VALUES {
    "id": user.id,
    "status": "done"
}
TALK "not reached"
' expect: [INSERT INTO "privacy_requests", {"id": 7, "status": "done"}]
' expect error: [insert_into_values_object.bas:6:1] Error: INSERT: bot tables need a database, and this run has none
