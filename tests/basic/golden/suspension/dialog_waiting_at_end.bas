' With no answer left, the dialog stays suspended at the HEAR.
TALK "Anything else?"
HEAR more
TALK "never said"
' expect: Anything else?
