' UPDATE written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database: the request is recorded, then it fails.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
UPDATE "products" WITH tax_code AS "T" + 1, tax_class AS q WHERE id = 3 AND kind <> "x"
TALK "not reached"
' expect: [UPDATE "products", {"$where": [["id", "=", 3], ["kind", "<>", "x"]]}, {"tax_code": "T1", "tax_class": "tea"}]
' expect error: [update_with_as_where.bas:6:1] Error: UPDATE: bot tables need a database, and this run has none
