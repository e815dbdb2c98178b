' SELECT CASE with lists, ranges, IS comparisons and CASE ELSE.
FOR EACH v IN [1, 3, 7, 12, 50, 0]
  SELECT CASE v
    CASE 1
      TALK v + ": one"
    CASE 2, 3, 4
      TALK v + ": two to four"
    CASE 5 TO 10
      TALK v + ": five to ten"
    CASE IS > 40
      TALK v + ": over forty"
    CASE 11 TO 20, 30
      TALK v + ": teens"
    CASE ELSE
      TALK v + ": other"
  END SELECT
NEXT
' expect: 1: one
' expect: 3: two to four
' expect: 7: five to ten
' expect: 12: teens
' expect: 50: over forty
' expect: 0: other
