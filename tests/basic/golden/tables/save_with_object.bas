' SAVE written with clauses compiles to the argument list of docs/tables.md, its values evaluated.
' (The golden bot has no database, and SAVE to a name that is not a table writes a file.)
email = "ann@example.com"
user = {"id": 7}
q = "tea"
id = SAVE "products" WITH user
TALK "next"
' expect: [SAVE "products", {"id": 7}]
' expect: next
