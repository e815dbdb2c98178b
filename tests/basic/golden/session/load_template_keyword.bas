' The seed's LOAD_TEMPLATE: the template's KBs, tools and system prompt join the session's
' context, and its first message is said. Then USE KB adds a KB of the bot.
LOAD_TEMPLATE "customer_support"
USE KB "policies"
TALK "done"
' expect: [LOAD TEMPLATE "customer_support"]
' expect: Hi! I'm Support.
' expect: [USE KB "policies"]
' expect: done
