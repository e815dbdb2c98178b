' SAVE written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database, and SAVE to a name that is not a table writes a file.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
SAVE "products" WITH name AS q, price AS 2.5
TALK "next"
' expect: [SAVE "products", {"name": "tea", "price": 2.5}]
' expect: next
