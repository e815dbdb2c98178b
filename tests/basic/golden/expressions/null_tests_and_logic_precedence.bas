' IS NULL / IS NOT NULL, NOTHING, and NOT > AND > OR precedence.
x = NULL
IF x IS NULL THEN TALK "x is null"
y = 0
IF y IS NOT NULL THEN TALK "y is not null"
IF NOTHING IS NULL THEN TALK "nothing is null"
IF undefined_var IS NULL THEN TALK "unset variable is null"
IF TRUE OR FALSE AND FALSE THEN TALK "AND binds tighter than OR"
IF NOT FALSE AND TRUE THEN TALK "NOT binds tighter than AND"
IF NOT (TRUE AND FALSE) THEN TALK "parentheses"
IF 1 < 2 AND 2 < 3 THEN TALK "comparisons bind tighter than AND"
TALK TRUE AND FALSE
TALK TRUE OR FALSE
' expect: x is null
' expect: y is not null
' expect: nothing is null
' expect: unset variable is null
' expect: AND binds tighter than OR
' expect: NOT binds tighter than AND
' expect: parentheses
' expect: comparisons bind tighter than AND
' expect: false
' expect: true
