' Lists [a, b], objects {"a": 1}, x[i] (0-based), x.field, nested values.
items = ["a", "b", "c"]
TALK items[0] + items[2]
items[1] = "B"
TALK JOIN(items, ",")
TALK LEN(items)
person = {"name": "Ann", "tags": ["x", "y"], "address": {"city": "Porto"}}
TALK person.name
TALK person.tags[1]
TALK person.address.city
TALK person["name"]
person.age = 30
TALK TOJSON(person)
TALK TYPEOF(items) + " " + TYPEOF(person)
empty = []
TALK LEN(empty)
' expect: ac
' expect: a,B,c
' expect: 3
' expect: Ann
' expect: y
' expect: Porto
' expect: Ann
' expect: {"name":"Ann","tags":["x","y"],"address":{"city":"Porto"},"age":30}
' expect: list object
' expect: 0
