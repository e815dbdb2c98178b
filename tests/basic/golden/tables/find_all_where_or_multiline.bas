' FIND ALL written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
rows = FIND ALL "accounts" WHERE
    name LIKE "%" + q + "%" OR
    note CONTAINS q AND status != 'closed'
    ORDER BY name
TALK "not reached"
' expect: [FIND ALL "accounts", {"$where": [["name", "LIKE", "%tea%"], "OR", ["note", "CONTAINS", "tea"], ["status", "!=", "closed"]], "$order": [["name", "ASC"]]}]
' expect error: [find_all_where_or_multiline.bas:6:8] Error: FIND ALL: bot tables need a database, and this run has none
