' HEARs in IF / ELSEIF / ELSE branches and in a seed-style if.
' input: yes
' input: Ann
' input: 3
HEAR member AS BOOLEAN
IF member THEN
  TALK "Member name?"
  HEAR name
  IF LEN(name) > 2 THEN
    TALK "Hi " + name
  ELSE
    HEAR nickname
  END IF
ELSEIF FALSE THEN
  HEAR never
ELSE
  TALK "guest"
END IF
if member
  HEAR guests AS INTEGER
  TALK "guests: " + guests
end
' expect: Member name?
' expect: Hi Ann
' expect: guests: 3
