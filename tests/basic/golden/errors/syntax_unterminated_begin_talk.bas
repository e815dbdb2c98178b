TALK "a"
BEGIN TALK
Hello there
' expect error: [syntax_unterminated_begin_talk.bas:2:1] Error at 'BEGIN TALK': BEGIN TALK has no END TALK
