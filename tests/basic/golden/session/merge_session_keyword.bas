' The seed's MERGE_SESSION is a request to the runtime; it only runs in an ON LOGIN handler
' (see on_login_merge_session_seed.bas), so in the main dialog it fails.
MERGE_SESSION "anon-1", "user-9"
TALK "never said"
' expect: [MERGE SESSION "anon-1", "user-9"]
' expect error: [merge_session_keyword.bas:3:1] Error: MERGE_SESSION only runs in an ON LOGIN handler
