' HEAR into an object field, a list item and a WITH field.
' input: Ann
' input: 31
' input: Porto
' input: blue
person = {"name": ""}
colors = ["red", "green"]
HEAR person.name
HEAR person.age AS INTEGER
WITH person
  .city = HEAR
END WITH
HEAR colors[1]
TALK person.name + " " + (person.age + 1) + " " + person.city
TALK JOIN(colors, ",")
' expect: Ann 32 Porto
' expect: red,blue
