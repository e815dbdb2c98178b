' Identifiers are read after NFKC normalisation, on purpose: the ligature ﬁ is fi, a
' full-width ｘ is x, x² is x2, then case is ignored. Texts in quotes stay as written.
ﬁrst = "one"
TALK First
ｘ = 5
TALK x + 1
x² = "squared"
TALK X2
TALK "ﬁ stays"
' expect: one
' expect: 6
' expect: squared
' expect: ﬁ stays
