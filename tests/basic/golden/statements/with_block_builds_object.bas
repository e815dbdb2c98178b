' WITH obj / .field = value builds an object.
WITH customer
  .name = "Ann"
  .age = 30
  .city = "Porto"
END WITH
TALK customer.name + " (" + customer.age + ") from " + customer.city
TALK TOJSON(customer)
' expect: Ann (30) from Porto
' expect: {"name":"Ann","age":30,"city":"Porto"}
