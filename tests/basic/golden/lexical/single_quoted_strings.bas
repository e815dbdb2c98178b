' A ' after a keyword, =, (, , or an operator starts a string; elsewhere a comment.
TALK 'after a keyword'
x = 'after equals'
TALK x
TALK UPPER('after a paren')
TALK "a" + 'after an operator'
TALK JOIN(["x", 'after a comma'], "-")
TALK "said" 'but this is a comment
' expect: after a keyword
' expect: after equals
' expect: AFTER A PAREN
' expect: aafter an operator
' expect: x-after a comma
' expect: said
