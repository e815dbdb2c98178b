' GET "session.id" is the session's UUID; "session.channel" the channel; "session.user" NULL when anonymous.
session_id = GET "session.id"
TALK "Session: " + session_id
TALK "Channel: " + GET "session.channel"
user = GET "session.user"
IF user IS NULL THEN TALK "anonymous"
' expect: Session: 00000000-0000-4000-8000-000000000001
' expect: Channel: test
' expect: anonymous
