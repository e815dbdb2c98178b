' FOR EACH over a list, a SPLIT result, and NEXT with the name.
FOR EACH fruit IN ["apple", "pear"]
  TALK "fruit: " + fruit
NEXT fruit
total = 0
FOR EACH n IN SPLIT("1,2,3", ",")
  total = total + VAL(n)
NEXT
TALK total
' expect: fruit: apple
' expect: fruit: pear
' expect: 6
