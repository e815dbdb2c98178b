' Every keyword works in lower case: loops, select, functions, with, keyword statements.
function twice(n)
  return n * 2
end function
total = 0
for i = 1 to 3 step 1
  total = total + twice(i)
next i
select case total
  case 12
    talk "twelve"
  case else
    talk "other"
end select
do while total > 10
  total = total - 5
loop
with box
  .size = total
end with
talk box.size
use kb "faq"
if total = 2 then talk "two" else talk "not two"
' expect: twelve
' expect: 7
' expect: [USE KB "faq"]
' expect: not two
