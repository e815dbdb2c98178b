// a C-style comment line
# a hash comment line
   // indented comment
TALK "only this"
' expect: only this
