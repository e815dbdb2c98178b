' HEARs in a FOR EACH inside a WHILE, building an object with WITH.
' input: 1
' input: 2
' input: 3
' input: 4
round = 0
scores = []
WHILE round < 2
  round = round + 1
  FOR EACH player IN ["A", "B"]
    HEAR s AS INTEGER
    WITH entry
      .player = player
      .round = round
      .score = s
    END WITH
    PUSH(scores, entry.player + round + "=" + entry.score)
  NEXT player
WEND
TALK JOIN(scores, ",")
' expect: A1=1,B1=2,A2=3,B2=4
