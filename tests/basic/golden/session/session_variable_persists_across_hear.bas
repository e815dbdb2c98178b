' The seed's Session Variables and Session Persistence: SET survives a suspension; GET restores it.
' input: Ann
' input: ok
name = HEAR
SET user_name = name
SET checkpoint = "step_3_complete"
HEAR pause
user_name = NULL
checkpoint = NULL
GET user_name
TALK "Welcome back, " + user_name
GET checkpoint
if checkpoint == "step_3_complete"
  TALK "Let's continue from step 4"
end
' expect: Welcome back, Ann
' expect: Let's continue from step 4
