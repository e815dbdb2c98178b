"""Every keyword statement gb knows: its canonical name, whether gb runs it, its syntax, a doc, an example.

This table is the one source of truth about keyword statements (``SET BOT MEMORY``, ``FIND``,
``SEND TEMPLATE`` ...): the lexer reads its names (each becomes one ``KW`` token, in any case and
with spaces or underscores), the compiler reads :attr:`KeywordSpec.runs` (a keyword gb runs
becomes a ``Request(kind="keyword", data={"keyword": NAME, "args": [...]})``; one it does not run
is a warning from ``gb check`` and fails with :class:`~gb_basic.errors.UnsupportedKeyword` only
when it runs), and the notebook's Shift+Tab help and the language reference (``docs/``) are
generated from the docs here, so they cannot drift.

The keywords marked ``runs`` are exactly the ones the runtime fulfils (``gb_runtime.keywords``;
a test compares the two). A statement with a keyword that is not in this table still parses (the
general ``KEYWORD [KEYWORD...] args`` form) and is a warning too.

The core statements (TALK, HEAR, IF, FOR, ...) are grammar rules, not keywords of this table;
their help lives with the notebook's docs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KeywordSpec", "KEYWORDS", "PENDING", "RUNNING", "keyword", "runs"]


@dataclass(frozen=True)
class KeywordSpec:
    """One keyword statement.

    Attributes:
        name: the canonical name: upper case, words separated by one space (``SET HEADER``).
        runs: True when gb runs it (the runtime fulfils its request); False: it parses, ``gb check``
            warns, and running it raises UnsupportedKeyword.
        syntax: its forms, one per line (``SET HEADER name, value``).
        doc: one or two sentences: what it does.
        example: a short example line (or lines).
        statement: True when it starts a statement; False for a keyword that is only a function
            (``x = GET BOT MEMORY("k")``), which the lexer reads in expressions instead, or whose
            statement is a grammar rule of its own (``CALL``).
    """

    name: str
    runs: bool
    syntax: str
    doc: str
    example: str
    statement: bool = True


def _k(name: str, runs: bool, syntax: str, doc: str, example: str, statement: bool = True) -> KeywordSpec:
    return KeywordSpec(name, runs, syntax, doc, example, statement)


_TABLE: tuple[KeywordSpec, ...] = (
    # --- memory, knowledge, tools, context (the runtime runs these) -------------------------------------
    _k("SET BOT MEMORY", True, "SET BOT MEMORY key, value\nSET_BOT_MEMORY key, value",
       "Stores a value in the bot's memory, shared by all its sessions.",
       'SET_BOT_MEMORY "last_visit_" + session_id, NOW()'),
    _k("GET BOT MEMORY", True, "GET_BOT_MEMORY(key)\nGET BOT MEMORY key",
       "Reads a value from the bot's memory (NULL when absent).",
       'last_visit = GET_BOT_MEMORY("last_visit_" + session_id)', statement=False),
    _k("GET USER MEMORY", True, "GET_USER_MEMORY(key)",
       "Reads a value from this user's memory within the bot (NULL when absent).",
       'color = GET_USER_MEMORY("color")', statement=False),
    _k("USE KB", True, "USE KB name",
       "Activates a knowledge base of the bot for this session only: messages no HEAR waits for are "
       "answered from it.", 'USE KB "policies"'),
    _k("CLEAR KB", True, "CLEAR KB", "Deactivates every knowledge base of this session.", "CLEAR KB"),
    _k("USE TOOL", True, "USE TOOL name",
       "Activates a tool (another .bas of the bot with PARAMs) for this session, so the LLM may call it.",
       'USE TOOL "track_order"'),
    _k("ADD TOOL", True, "ADD TOOL name", "The same as `USE TOOL` (the name may be a path: "
       '`".gbdialog/support.bas"`).', 'ADD TOOL "track_order"'),
    _k("REMOVE TOOL", True, "REMOVE TOOL name", "Deactivates one tool of this session.",
       'REMOVE TOOL "track_order"'),
    _k("CLEAR TOOLS", True, "CLEAR TOOLS", "Deactivates every tool of this session.", "CLEAR TOOLS"),
    _k("ADD SUGGESTION", True, "ADD SUGGESTION text\nADD SUGGESTION context AS text",
       "Adds a button to the bot's replies that sends `text` when clicked (and selects the context); "
       "it stays until CLEAR SUGGESTIONS.", 'ADD SUGGESTION "menu" AS "Show products"'),
    _k("ADD SUGGESTION TOOL", True, "ADD SUGGESTION TOOL name AS text",
       "Adds a button to the bot's replies that runs the bot's tool `name` when clicked.",
       'ADD SUGGESTION TOOL "track_order" AS "Track my order"'),
    _k("CLEAR SUGGESTIONS", True, "CLEAR SUGGESTIONS", "Removes the session's suggestions (not its "
       "switchers).", "CLEAR SUGGESTIONS"),
    _k("CLEAR SWITCHERS", True, "CLEAR SWITCHERS", "Removes the session's switchers.", "CLEAR SWITCHERS"),
    _k("SET CONTEXT", True, "SET CONTEXT name AS text\nSET CONTEXT text",
       "Stores a named text in the session's context for the LLM (a context suggestion selects it); "
       "without a name, the session's default context.", 'SET CONTEXT "mood" AS "happy"'),
    _k("SYSTEM PROMPT", True, "BEGIN SYSTEM PROMPT\n...\nEND SYSTEM PROMPT",
       "Sets the session's system prompt for the LLM to the lines up to `END SYSTEM PROMPT` (with "
       "interpolation).", "BEGIN SYSTEM PROMPT\nYou are {bot}, a polite support agent.\nEND SYSTEM PROMPT",
       statement=False),
    _k("SET LANGUAGE", True, "SET LANGUAGE code", "Sets the session's language (e.g. `pt-BR`).",
       'SET LANGUAGE "pt-BR"'),
    _k("SET SCHEDULE", True, "SET SCHEDULE cron\nSET SCHEDULE cron, dialog [, job]\nSET SCHEDULE date, dialog",
       "At the top of a dialog file: `gb serve` runs the dialog on that cron schedule (`min hour day month "
       "weekday`, or six fields with the seconds first), each run a session of its own. In code: schedules "
       "another dialog (recurring, or once at a date).", 'SET SCHEDULE "0 9 * * 1-5"'),
    _k("LOAD TEMPLATE", True, "LOAD_TEMPLATE name", "Loads a session template of the bot: its knowledge "
       "bases, tools, system prompt and first message.", 'LOAD_TEMPLATE "customer_support"'),
    _k("SAVE", True, "SAVE file, value\nSAVE table, field, ...", "Writes text (or JSON for other values) "
       "into the bot's own storage area; paths outside it are refused.",
       'SAVE "conversations/" + session_id + ".txt", history'),
    _k("WAIT", True, "WAIT seconds", "Pauses the dialog for that many seconds (fractions allowed, at most "
       "the bot's `max-wait`, a day by default): the turn ends with what was said so far and a timer "
       "continues the dialog, on any server process, after any restart. `WAIT 0` goes on at once.",
       "WAIT 2"),
    _k("MERGE SESSION", True, "MERGE_SESSION anonymous_id, user_id", "Merges an anonymous session into "
       "the user's session on login (inside `ON LOGIN`).", "MERGE_SESSION anonymous_id, user_id"),
    _k("TRANSFER SESSION", True, "TRANSFER_SESSION channel[, address]", "Continues this conversation "
       "(variables, history, the waiting HEAR) on another channel (`\"whatsapp\"`, `\"email\"`, "
       "`\"web\"`...) at the user's address there (linked to the user, or given: a logged-in user's "
       "must be linked); the replies after it go there. Fails with \"channel not configured\" when "
       "the bot has no such channel.", 'TRANSFER_SESSION "whatsapp", phone'),
    _k("SEND CODE", True, "SEND CODE channel, address", "Sends a six-digit code to an address on a channel "
       "(its outbox), for the user to type back: VERIFY CODE checks it (ten minutes, five tries).",
       'SEND CODE "whatsapp", phone'),
    _k("VERIFY CODE", True, "ok = VERIFY CODE typed", "True when `typed` is the code SEND CODE sent: the "
       "address is then the user's (TRANSFER_SESSION may go there; a logged-in user's is linked).",
       "ok = VERIFY CODE typed"),
    _k("SEND MAIL", True, "SEND MAIL to, subject, body[, attachments]", "Sends an e-mail (text and HTML) "
       "through the bot's email channel (its outbox, after the turn is stored), from any channel; `to` may "
       "list addresses between commas, `attachments` is a file (from `HEAR x AS FILE`, a path of the bot's "
       "folder) or an array of them. Fails with \"channel not configured\" while the bot has no e-mail "
       "channel (`email-smtp-url`, `email-from`).", 'SEND MAIL "ann@example.com", "Hi", "Welcome!"'),
    # --- bot tables (docs/tables.md) --------------------------------------------------------------------
    _k("FIND", True, 'x = FIND table, filter\nx = FIND "file.xlsx", filter',
       "Reads the rows of a bot table (or a .csv/.xlsx of the bot's folder) that match the filter "
       '(`"col=value"`, `"a = \'1\' AND b > 2"`).', 'orders = FIND "orders", "status=open"'),
    _k("INSERT", True, "INSERT table, object", "Adds a row to a bot table.",
       'INSERT "leads", lead'),
    _k("UPDATE", True, "UPDATE table, filter, object", "Changes the rows of a bot table that match "
       "the filter.", 'UPDATE "leads", "id=" + id, changes'),
    _k("DELETE", True, "DELETE table, filter\nDELETE url", "Removes the rows of a bot table that match "
       "the filter; with a URL, an HTTP DELETE.", 'DELETE "leads", "id=" + id'),
    _k("FILTER", True, "x = FILTER rows, filter", "The rows of a list that match a filter.",
       'big = FILTER orders, "amount>1000"'),
    _k("FIRST", True, "x = FIRST rows", "The first item of a list (the rows FIND gave): NULL when it is empty.",
       'lead = FIRST leads'),
    _k("LAST", True, "x = LAST rows", "The last item of a list (the rows FIND gave): NULL when it is empty.",
       'lead = LAST leads'),
    _k("FIND ALL", True, "x = FIND ALL table", "Every row of a bot table (or of a .csv/.xlsx file).",
       'products = FIND ALL "products"'),
    _k("INSERT INTO", True, "INSERT INTO table, object", "The same as `INSERT`.", 'INSERT INTO "leads", lead'),
    _k("MERGE", True, 'MERGE table WITH rows BY "key"\nMERGE table, rows, key',
       "Inserts or updates rows of a bot table by a key column.", 'MERGE "products", items, "id"'),
    # --- other dialogs of the bot ---------------------------------------------------------------------
    _k("CALL", True, 'CALL name[, args]\nCALL name(args)\nCALL "other.bas"[, args]',
       "Calls a `SUB` or `FUNCTION` of the file, ignoring any result; a name that is none of them (or "
       '`"other.bas"`) runs that dialog of the bot, its PARAMs set from the arguments in order: it may TALK '
       "and HEAR, and this dialog goes on after the CALL when it ends (`x = CALL ...`: its RETURN value).",
       'CALL "create-ticket.bas", customer_id', statement=False),
    # --- HTTP -----------------------------------------------------------------------------------------
    _k("POST", True, "x = POST url, data", "An HTTP POST of `data` (as JSON); the JSON answer.",
       'reply = POST "https://api.example.com/orders", order'),
    _k("PUT", True, "x = PUT url, data", "An HTTP PUT of `data` (as JSON); the JSON answer.",
       'reply = PUT "https://api.example.com/orders/1", order'),
    _k("PATCH", True, "x = PATCH url, data", "An HTTP PATCH of `data` (as JSON); the JSON answer.",
       'reply = PATCH "https://api.example.com/orders/1", changes'),
    _k("SET HEADER", True, "SET HEADER name, value\nSET HEADER name AS value",
       "Sets an HTTP header for this dialog's next GET/POST/PUT/PATCH/DELETE requests.",
       'SET HEADER "Authorization", "Bearer " + token'),
    _k("CLEAR HEADERS", True, "CLEAR HEADERS", "Removes the headers set by `SET HEADER`.", "CLEAR HEADERS"),
    # --- messaging (with the channels) ----------------------------------------------------------------
    _k("SEND EMAIL", True, "SEND EMAIL to, subject, body[, attachments]", "The same as `SEND MAIL`.",
       'SEND EMAIL "ann@example.com", "Hi", "Welcome!"'),
    _k("SEND FILE", True, "SEND FILE file[, caption]", "Sends a file to the user, on every channel that "
       "can: a file from `HEAR x AS FILE`, a URL, or a path of the bot's folder (its `.gbdrive` first); "
       "the caption (or the file's name) is the message's text.", 'SEND FILE "report.pdf", "Your report"'),
    _k("SEND TEMPLATE", True, "SEND TEMPLATE name, channel, to[, vars]", "Sends a pre-approved message "
       "template (WhatsApp's: the only messages allowed 24 hours after the user's last one) to an address, "
       "its body's parameters from `vars` (a value or an array); through the channel's outbox, after the "
       "turn is stored. Fails with \"channel not configured\" while the bot has no such channel.",
       'SEND TEMPLATE "order_ready", "whatsapp", phone, [name, order_id]'),
    _k("SEND SMS", True, "SEND SMS to, text", "Sends an SMS through the bot's Twilio number (its outbox), "
       "after the turn is stored; fails with \"channel not configured\" without one.",
       'SEND SMS "+5511999990000", "Hi"'),
    # --- schedules, suggestions, switchers, memory ----------------------------------------------------
    _k("ADD SWITCHER", True, "ADD SWITCHER name AS text", "Adds a switcher button (an answer format the "
       "user turns on and off, such as tables or cards) to the bot's replies.",
       'ADD SWITCHER "pt" AS "Português"'),
    _k("SET USER MEMORY", True, "SET USER MEMORY key, value", "Stores a value in this user's memory "
       "within the bot: every session of the user reads it (an anonymous session has its own).",
       'SET USER MEMORY "color", "blue"'),
    _k("REMEMBER", True, "REMEMBER key, value[, duration]\nREMEMBER key = value",
       "Remembers a value for this user within the bot, for a while (`\"30 days\"`, `\"2 hours\"`, a "
       "number of days) or `\"forever\"` (the default); after that RECALL reads NULL.",
       'REMEMBER "last_order", order_id, "30 days"'),
    _k("RECALL", True, "x = RECALL key\nx = RECALL(key)", "Reads what REMEMBER (or SET USER MEMORY) "
       "stored for this user (NULL when absent or expired).", 'last = RECALL "last_order"', statement=False),
    _k("SET ANSWER MODE", True, "SET ANSWER MODE mode", "Chooses how the LLM answers in this session "
       '(`"document"`, `"direct"` ...).', 'SET ANSWER MODE "document"'),
    _k("SET USER", False, "SET USER id", "Acts on behalf of another user.", "SET USER user_id"),
    _k("SET PAGE MODE", False, "SET PAGE MODE mode", "Chooses how long answers are paged.",
       'SET PAGE MODE "auto"'),
    _k("SET MAX LINES", False, "SET MAX LINES n", "Limits the lines of a table read by FIND.",
       "SET MAX LINES 2000"),
    _k("SET PRIORITY", False, "SET PRIORITY session, level", "Sets a session's priority in the "
       "attendants' queue.", 'SET PRIORITY session_id, "urgent"'),
    _k("SEND TO SESSION", False, "SEND TO SESSION session, text", "Sends a message into another session.",
       'SEND TO SESSION id, "We are here"'),
    # --- LLM and content (with the LLM work) ----------------------------------------------------------
    _k("LLM", True, "x = LLM prompt", "Asks the bot's LLM (llm-url in config.csv) under the session's "
       "system prompt and contexts; the answer as text.",
       'summary = LLM "Summarize: " + text'),
    _k("DOWNLOAD", False, "x = DOWNLOAD url", "Downloads a file into the bot's storage.",
       "file = DOWNLOAD image_url"),
    _k("UPLOAD", False, "x = UPLOAD file", "Uploads a file to the bot's drive; its URL.", "url = UPLOAD file"),
    _k("DIR", False, "x = DIR folder", "The files of a folder of the bot's drive.", "files = DIR folder"),
    _k("GENERATE PDF", False, "GENERATE PDF file WITH TEMPLATE name DATA data",
       "Renders a PDF from a template.", 'GENERATE PDF "r.pdf" WITH TEMPLATE "invoice" DATA order'),
    _k("WEBHOOK", False, "WEBHOOK name", "Makes the dialog answer an HTTP endpoint.", 'WEBHOOK "order-paid"'),
    _k("CREATE SITE", False, "CREATE SITE alias, template, prompt", "Creates a web site from a template.",
       'CREATE SITE "acme", "base", prompt'),
    _k("CREATE DRAFT", False, "CREATE DRAFT to, subject, body", "Creates an e-mail draft.",
       'CREATE DRAFT "ann@example.com", "Hi", body'),
    _k("DEBUG", False, "DEBUG value", "Writes a value to the bot's log.", "DEBUG order"),
)

#: Every keyword, by canonical name.
KEYWORDS: dict[str, KeywordSpec] = {k.name: k for k in _TABLE}
#: The canonical names of the keywords gb runs.
RUNNING: frozenset[str] = frozenset(k.name for k in _TABLE if k.runs)
# Why a keyword gb parses does not run yet, where it waits for a part of gb still to come: the
# messaging keywords for the channels, the LLM ones for the LLM. The error of a dialog that
# reaches one says so.
PENDING: dict[str, str] = {
    **dict.fromkeys(("SEND TO SESSION", "CREATE DRAFT"),
                    "channel not configured"),
}


def keyword(name: str) -> KeywordSpec | None:
    """The spec of a keyword, by any spelling (``set_bot_memory``, ``Set  Bot Memory``); None if unknown."""
    return KEYWORDS.get(" ".join(name.replace("_", " ").split()).upper())


def runs(name: str) -> bool:
    """True if gb runs the keyword `name` (any spelling)."""
    spec = keyword(name)
    return spec is not None and spec.runs
