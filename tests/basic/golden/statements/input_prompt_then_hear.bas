' INPUT "prompt", x is TALK then HEAR.
' input: Lisbon
INPUT "Which city?", city
TALK "City: " + city
' expect: Which city?
' expect: City: Lisbon
