"""Help texts and completions for the notebook: keywords, built-ins, HEAR types, magics.

The kernel's ``do_inspect`` shows :func:`help_for` of the word under the cursor (Shift+Tab) and
``do_complete`` offers :func:`completions`. Every text is Markdown: a signature line, a sentence
or two, and a short example.
"""

from __future__ import annotations

from collections.abc import Iterable

from gb_basic.builtins import DOCS
from gb_basic.keywords import KEYWORDS as KEYWORD_TABLE
from gb_basic.keywords import PENDING
from gb_basic.validators import HEAR_TYPES

__all__ = ["KEYWORDS", "MAGICS", "HEAR_TYPE_DOCS", "help_for", "completions"]


def _doc(signature: str, text: str, example: str) -> str:
    """One help text: the signature(s), what it does, an example in a ``basic`` code block."""
    sig = "  \n".join(f"`{s}`" for s in signature.split("\n"))
    return f"{sig}\n\n{text}\n\n```basic\n{example}\n```"


_HEAR_FORMS = """HEAR name
name = HEAR
HEAR name AS type
HEAR name AS "choice 1", "choice 2", ...
HEAR name AS type WITH prompt"""

# Statement keywords (single and multi-word) and the words inside statements, upper case with spaces.
_KEYWORDS: dict[str, str] = {
    # --- messages -------------------------------------------------------------------------------
    "TALK": _doc("TALK expr[, expr ...]", "Sends a message to the user. Several expressions are "
                 "joined with spaces; `${expr}` and `{name}` interpolate inside strings.",
                 'TALK "Hello, {name}! You have ${count + 1} items."'),
    "PRINT": _doc("PRINT expr", "The same as `TALK`: sends a message to the user.", 'PRINT "Order saved."'),
    "TALK TO": _doc("TALK TO recipient, expr", "Sends a message to another address (a phone number, "
                    "an e-mail, a user id) instead of the current user.",
                    'TALK TO "+5511999990000", "Your order has shipped."'),
    "BEGIN TALK": _doc("BEGIN TALK\n...\nEND TALK", "A multi-line message: the lines up to `END TALK` are "
                       "sent as one message, with `${expr}` and `{name}` interpolation.",
                       "BEGIN TALK\nHello {name}!\nYour total is ${total}.\nEND TALK"),
    "BEGIN SYSTEM PROMPT": _doc("BEGIN SYSTEM PROMPT\n...\nEND SYSTEM PROMPT", "Sets the session's system "
                                "prompt for the LLM to the lines up to `END SYSTEM PROMPT` (with interpolation).",
                                "BEGIN SYSTEM PROMPT\nYou are {bot}, a polite support agent.\nEND SYSTEM PROMPT"),
    # --- input ----------------------------------------------------------------------------------
    "HEAR": _doc(_HEAR_FORMS, "Waits for the user's answer: the dialog is suspended and saved with the "
                 "session, and the next message resumes it here. A typed HEAR validates the answer and asks "
                 "again (3 tries) with a clear message; a menu accepts a choice's text or number. Types: "
                 f"{', '.join(sorted(HEAR_TYPES))}.",
                 'HEAR email AS EMAIL WITH "Your e-mail?"\nHEAR plan AS "Starter", "Pro" WITH "Which plan?"'),
    "INPUT": _doc("INPUT prompt, name", "Says the prompt, then waits for the answer like `HEAR name`.",
                  'INPUT "What is your name?", name'),
    # --- session variables --------------------------------------------------------------------------
    "SET": _doc("SET name = expr", "Assigns a session variable: it persists across messages and restarts. "
                "(`SET BOT MEMORY`, `SET CONTEXT`, `SET SCHEDULE` are keyword statements.)",
                'SET checkpoint = "step_3_complete"'),
    "GET": _doc("GET name\nx = GET \"session.id\"", "Reads a session variable back into `name`, or a session "
                "fact: `session.id`, `session.message_count`, `session.history`, `session.channel`, "
                "`session.user`.", 'GET checkpoint\ncount = GET "session.message_count"'),
    "DIM": _doc("DIM name [AS type] [= expr]", "Declares a variable, optionally with a value; the type is "
                "accepted for compatibility and not checked.", "DIM total AS NUMBER = 0"),
    "LET": _doc("LET name = expr", "Old-style assignment; the same as `name = expr`.", "LET total = price * qty"),
    # --- conditions -------------------------------------------------------------------------------
    "IF": _doc("IF cond THEN ... [ELSEIF cond THEN ...] [ELSE ...] END IF\nIF cond THEN stmt [ELSE stmt]",
               "Runs the first branch whose condition is true. The lower-case seed form `if cond` / "
               "`else if cond` / `else` / `end` (no THEN, closed by a bare `end`) works too; inside a "
               "condition `=` compares.", 'IF age >= 18 THEN\n  TALK "Welcome"\nELSE\n  TALK "Sorry"\nEND IF'),
    "THEN": _doc("IF cond THEN", "Ends the condition of an `IF`/`ELSEIF`; a statement after it on the same "
                 "line makes a single-line IF.", 'IF n > 3 THEN TALK "big" ELSE TALK "small"'),
    "ELSEIF": _doc("ELSEIF cond [THEN]\nELSE IF cond [THEN]", "Another condition of an `IF`, tried when the "
                   "ones before it were false.", 'IF n < 3 THEN\n  TALK "few"\nELSEIF n < 10 THEN\n  TALK "some"\n'
                   "END IF"),
    "ELSE": _doc("ELSE", "The branch of an `IF` (or a single-line IF) that runs when no condition was true.",
                 'IF ok THEN\n  TALK "yes"\nELSE\n  TALK "no"\nEND IF'),
    "END IF": _doc("END IF\nENDIF", "Closes an `IF` block.", 'IF ok THEN\n  TALK "yes"\nEND IF'),
    "SELECT CASE": _doc("SELECT CASE expr", "Runs the first `CASE` whose value equals the expression, or "
                        "`CASE ELSE`; closed by `END SELECT`.",
                        'SELECT CASE topic\n  CASE "Sales", "Prices"\n    TALK "Sales"\n  CASE ELSE\n'
                        '    TALK "Other"\nEND SELECT'),
    "CASE": _doc("CASE value[, value ...]", "A branch of `SELECT CASE`, taken when the tested value equals "
                 "one of the values.", 'CASE "yes", "y"\n  TALK "Confirmed"'),
    "CASE ELSE": _doc("CASE ELSE", "The branch of `SELECT CASE` taken when no `CASE` matched; it comes last.",
                      'CASE ELSE\n  TALK "Sorry, I did not get that."'),
    "END SELECT": _doc("END SELECT", "Closes a `SELECT CASE` block.", "END SELECT"),
    # --- loops --------------------------------------------------------------------------------------
    "FOR": _doc("FOR i = a TO b [STEP s] ... NEXT [i]", "Counts `i` from `a` to `b` (inclusive) by `s` "
                "(default 1, may be negative).", 'FOR i = 1 TO 3\n  TALK "Item " + i\nNEXT i'),
    "TO": _doc("FOR i = a TO b\nTALK TO recipient, expr", "The upper bound of a `FOR` loop; in `TALK TO`, "
               "the recipient follows.", "FOR i = 10 TO 1 STEP -1"),
    "STEP": _doc("FOR i = a TO b STEP s", "The increment of a `FOR` loop (default 1).",
                 "FOR i = 0 TO 100 STEP 10"),
    "NEXT": _doc("NEXT [i]", "Ends the body of a `FOR` or `FOR EACH` loop; the optional name must be the "
                 "loop's variable.", "FOR EACH item IN cart\n  total = total + item.price\nNEXT item"),
    "FOR EACH": _doc("FOR EACH x IN list ... NEXT [x]", "Runs the body once for every item of a list.",
                     "FOR EACH item IN items\n  TALK item\nNEXT"),
    "IN": _doc("FOR EACH x IN list", "Names the list a `FOR EACH` loop walks.", "FOR EACH name IN names"),
    "DO": _doc("DO ... LOOP [WHILE|UNTIL cond]", "A loop; the condition goes after `DO` (tested first) or "
               "after `LOOP` (tested after each pass). Leave it with `EXIT DO`.",
               'DO\n  HEAR qty AS INTEGER WITH "How many?"\nLOOP UNTIL qty > 0'),
    "DO WHILE": _doc("DO WHILE cond ... LOOP", "Repeats the body while the condition is true (tested first).",
                     "DO WHILE n < 10\n  n = n + 1\nLOOP"),
    "DO UNTIL": _doc("DO UNTIL cond ... LOOP", "Repeats the body until the condition becomes true "
                     "(tested first).", "DO UNTIL n >= 10\n  n = n + 1\nLOOP"),
    "LOOP": _doc("LOOP", "Ends the body of a `DO` loop.", "DO WHILE n < 3\n  n = n + 1\nLOOP"),
    "LOOP WHILE": _doc("LOOP WHILE cond", "Ends a `DO` loop that repeats while the condition is true, tested "
                       "after each pass.", "DO\n  n = n + 1\nLOOP WHILE n < 3"),
    "LOOP UNTIL": _doc("LOOP UNTIL cond", "Ends a `DO` loop that repeats until the condition is true, tested "
                       "after each pass.", 'DO\n  HEAR answer AS BOOLEAN WITH "Ready?"\nLOOP UNTIL answer'),
    "UNTIL": _doc("DO UNTIL cond\nLOOP UNTIL cond", "Repeats a `DO` loop until the condition becomes true.",
                  "LOOP UNTIL qty > 0"),
    "WHILE": _doc("WHILE cond ... WEND", "Repeats the body while the condition is true.",
                  "WHILE n < 3\n  n = n + 1\nWEND"),
    "WEND": _doc("WEND\nEND WHILE", "Ends a `WHILE` loop.", "WHILE n < 3\n  n = n + 1\nWEND"),
    "EXIT FOR": _doc("EXIT FOR", "Leaves the innermost `FOR` or `FOR EACH` loop.",
                     "FOR EACH x IN xs\n  IF x = target THEN EXIT FOR\nNEXT"),
    "EXIT DO": _doc("EXIT DO", "Leaves the innermost `DO` loop.", "DO\n  IF done THEN EXIT DO\nLOOP"),
    "EXIT WHILE": _doc("EXIT WHILE", "Leaves the innermost `WHILE` loop.", "WHILE TRUE\n  EXIT WHILE\nWEND"),
    "EXIT FUNCTION": _doc("EXIT FUNCTION", "Returns from a `FUNCTION` with the value assigned to its name "
                          "so far.", "IF n < 0 THEN EXIT FUNCTION"),
    "EXIT SUB": _doc("EXIT SUB", "Returns from a `SUB`.", "IF ISEMPTY(items) THEN EXIT SUB"),
    "EXIT": _doc("EXIT", "Stops the dialog (like `END`); `EXIT FOR`, `EXIT DO`, `EXIT WHILE`, `EXIT FUNCTION` "
                 "and `EXIT SUB` leave a loop or a procedure instead.", 'IF cancelled THEN EXIT'),
    # --- procedures ---------------------------------------------------------------------------------
    "FUNCTION": _doc("FUNCTION name(args) ... END FUNCTION", "Defines a function; `RETURN x` (or assigning "
                     "to its name) gives the result. Variables inside are local; a HEAR inside suspends "
                     "the whole dialog.", "FUNCTION twice(n)\n  RETURN n * 2\nEND FUNCTION"),
    "END FUNCTION": _doc("END FUNCTION", "Closes a `FUNCTION`.", "END FUNCTION"),
    "SUB": _doc("SUB name[(args)] ... END SUB", "Defines a procedure without a result; call it with "
                "`CALL name, args`, `name(args)` or `name args`.", 'SUB greet(who)\n  TALK "Hi " + who\nEND SUB'),
    "END SUB": _doc("END SUB", "Closes a `SUB`.", "END SUB"),
    "CALL": _doc("CALL name[, args]", "Calls a `SUB` or `FUNCTION`, ignoring any result.", 'CALL greet, "Ann"'),
    "RETURN": _doc("RETURN [x]", "Leaves a `FUNCTION` with the value `x` or a `SUB`; in the main dialog it "
                   "stops the dialog (`x` is what a `CALL` of it gives).", "RETURN total * 1.1"),
    "END": _doc("END", "Stops the dialog. The seed's lower-case `if` blocks and `ON LOGIN` also close with a "
                "bare `end`.", 'IF NOT ok THEN\n  TALK "Bye"\n  END\nEND IF'),
    # --- jumps, errors, entry points -------------------------------------------------------------------
    "GOTO": _doc("GOTO label", "Jumps to the line `label:` in the same dialog or procedure.",
                 "again:\nn = n + 1\nIF n < 3 THEN GOTO again"),
    "ON ERROR RESUME NEXT": _doc("ON ERROR RESUME NEXT", "From here on, a statement that fails is skipped "
                                 "and the dialog continues with the next one.",
                                 'ON ERROR RESUME NEXT\nx = 1 / 0\nTALK "still here"'),
    "ON ERROR GOTO 0": _doc("ON ERROR GOTO 0", "Turns `ON ERROR RESUME NEXT` off: errors stop the dialog "
                            "again.", "ON ERROR GOTO 0"),
    "ON LOGIN": _doc("ON LOGIN ... END", "A separate entry point that runs when an anonymous user logs in; "
                     "the dialog around it skips it. Use `MERGE_SESSION` inside it.",
                     "ON LOGIN\n  MERGE_SESSION anonymous_id, user_id\nEND"),
    "WITH": _doc("WITH obj ... END WITH\nHEAR name AS type WITH prompt", "Builds an object: lines "
                 "`.field = value` set its fields. In a `HEAR`, `WITH` gives the prompt to say before "
                 "waiting.", 'WITH order\n  .plan = "Pro"\n  .seats = 5\nEND WITH'),
    "END WITH": _doc("END WITH", "Closes a `WITH` block.", "END WITH"),
    # --- tools ----------------------------------------------------------------------------------------
    "PARAM": _doc("PARAM name AS type [LIKE example] [DESCRIPTION text]", "Makes the file a tool the LLM can "
                  "call: declares one argument of its schema. When the tool runs, `name` holds the "
                  "argument (NULL if not given).",
                  'PARAM order_id AS INTEGER LIKE 12345 DESCRIPTION "The order number"'),
    "DESCRIPTION": _doc("DESCRIPTION text\nPARAM ... DESCRIPTION text", "Describes the tool (at statement "
                        "start) or one of its PARAMs, for the LLM.", 'DESCRIPTION "Tells where an order is"'),
    "LIKE": _doc("PARAM name AS type LIKE example", "An example value of a tool argument, for the LLM.",
                 'PARAM city AS NAME LIKE "Lisbon"'),
    "AS": _doc("HEAR name AS type\nPARAM name AS type\nDIM name AS type", "Gives a type (or a HEAR menu). In "
               "`ADD SUGGESTION` and `SET CONTEXT`, `AS` separates the arguments like a comma.",
               "HEAR born AS DATE"),
    # --- operators and constants -------------------------------------------------------------------------
    "AND": _doc("a AND b", "TRUE when both are true.", "IF age >= 18 AND accepted THEN"),
    "OR": _doc("a OR b", "TRUE when either is true.", "IF qty < 1 OR qty > 100 THEN"),
    "NOT": _doc("NOT a", "TRUE when `a` is false.", "IF NOT ISEMPTY(name) THEN"),
    "MOD": _doc("a MOD b\nMOD(a, b)", "The remainder of `a / b`, with the sign of `a`.",
                'IF n MOD 2 = 0 THEN TALK "even"'),
    "IS": _doc("x IS NULL\nx IS NOT NULL", "Tests for NULL (an unset variable, a missing answer).",
               'IF user IS NULL THEN TALK "anonymous"'),
    "TRUE": _doc("TRUE", "The boolean true.", "done = TRUE"),
    "FALSE": _doc("FALSE", "The boolean false.", "done = FALSE"),
    "NULL": _doc("NULL\nNOTHING", "No value: what an unset variable holds.", "checkpoint = NULL"),
    "REM": _doc("REM text\n' text", "A comment. `'` starts one anywhere a string cannot start; `//` and `#` "
                "at the start of a line too. `REMEMBER` is not a comment.", "REM the welcome\nTALK \"Hi\" ' greet"),
}


def _keyword_doc(name: str) -> str:
    """The help of a keyword statement, from the language's keyword table (gb_basic.keywords)."""
    spec = KEYWORD_TABLE[name]
    why = f" ({PENDING[name]})" if name in PENDING else ""
    note = "" if spec.runs else f" Parsed; gb does not run it yet{why}: a dialog fails when it reaches it."
    return _doc(spec.syntax, spec.doc + note, spec.example)


# Keyword statements: the one table the language and the docs share.
_KEYWORDS.update({name: _keyword_doc(name) for name in KEYWORD_TABLE})
# Other spellings of the same keywords.
_ALIASES: dict[str, str] = {
    "ELSE IF": "ELSEIF", "ENDIF": "END IF", "END WHILE": "WEND", "END FOR": "NEXT", "NOTHING": "NULL",
    "SET_BOT_MEMORY": "SET BOT MEMORY", "GET_BOT_MEMORY": "GET BOT MEMORY", "GET_USER_MEMORY": "GET USER MEMORY",
    "TRANSFER_SESSION": "TRANSFER SESSION", "MERGE_SESSION": "MERGE SESSION", "LOAD_TEMPLATE": "LOAD TEMPLATE",
}
KEYWORDS: dict[str, str] = {**_KEYWORDS, **{alias: _KEYWORDS[key] for alias, key in _ALIASES.items()}}

HEAR_TYPE_DOCS: dict[str, str] = {
    "EMAIL": _doc("HEAR x AS EMAIL", "An e-mail address like `name@example.com`, lower-cased.",
                  'HEAR email AS EMAIL WITH "Your e-mail?"'),
    "NAME": _doc("HEAR x AS NAME", "A person's name: letters of any script, spaces, apostrophes, hyphens, "
                 "dots; at least 2 letters.", 'HEAR name AS NAME WITH "What is your name?"'),
    "INTEGER": _doc("HEAR x AS INTEGER", 'A whole number without separators: "42", "+3", "-7".',
                    'HEAR qty AS INTEGER WITH "How many seats?"'),
    "NUMBER": _doc("HEAR x AS NUMBER", 'A number ("3.5"; "3,5" in pt-BR); an integral value becomes an '
                   "integer.", 'HEAR weight AS NUMBER WITH "Weight in kg?"'),
    "FLOAT": _doc("HEAR x AS FLOAT", "A number, always with decimals.", 'HEAR rate AS FLOAT WITH "Rate?"'),
    "MONEY": _doc("HEAR x AS MONEY", 'An amount like "R$ 1.234,56", "$1,234.56" or "10", rounded to 2 '
                  "decimals.", 'HEAR budget AS MONEY WITH "Your budget?"'),
    "DATE": _doc("HEAR x AS DATE", 'A calendar date: ISO, "25/11/2026" (day first in pt-BR, month first in '
                 'English), "Nov 25, 2026", "25 de novembro", "today", "tomorrow".',
                 'HEAR born AS DATE WITH "Your birth date?"'),
    "HOUR": _doc("HEAR x AS HOUR", 'A time of day, given as "14:30", "14h30", "2pm" or "noon", kept as '
                 '"HH:MM".', 'HEAR at AS HOUR WITH "What time suits you?"'),
    "BOOLEAN": _doc("HEAR x AS BOOLEAN", 'Yes or no, in English or Portuguese ("yes", "ok", "sim", "no", '
                    '"não"), as TRUE or FALSE.', 'HEAR confirm AS BOOLEAN WITH "Confirm?"'),
    "MOBILE": _doc("HEAR x AS MOBILE", 'A mobile number of 10 to 15 digits, kept as "+digits".',
                   'HEAR mobile AS MOBILE WITH "Your mobile number?"'),
    "PHONE": _doc("HEAR x AS PHONE", 'A phone number of 7 to 15 digits, kept as "+digits".',
                  'HEAR phone AS PHONE WITH "Your phone?"'),
    "ZIPCODE": _doc("HEAR x AS ZIPCODE", 'A US ZIP ("12345", "12345-6789") or a Brazilian CEP, kept as '
                    '"01310-100".', 'HEAR zip AS ZIPCODE WITH "Your ZIP code?"'),
    "LANGUAGE": _doc("HEAR x AS LANGUAGE", 'A language, by code ("pt", "pt-BR") or name ("Portuguese"), '
                     'kept as its ISO 639-1 code ("pt").', 'HEAR lang AS LANGUAGE WITH "Which language?"'),
    "FILE": _doc("HEAR x AS FILE", "An attachment, or a URL or path, as an object with `name` and `url`.",
                 'HEAR doc AS FILE WITH "Please attach your receipt."'),
    "IMAGE": _doc("HEAR x AS IMAGE", "An attached image (its type sniffed from the content, not the name), as "
                  "an object with `name`, `type`, `size` and `url`.", 'HEAR photo AS IMAGE WITH "A photo, please."'),
    "AUDIO": _doc("HEAR x AS AUDIO", "An attached audio file or voice message (by content), as an object with "
                  "`name`, `type`, `size` and `url`.", 'HEAR voice AS AUDIO WITH "Send a voice message."'),
    "DOCUMENT": _doc("HEAR x AS DOCUMENT", "An attached document by content (PDF, Word, Excel, PowerPoint, "
                     "OpenDocument, RTF, JSON or text), as an object with `name`, `type`, `size` and `url`.",
                     'HEAR doc AS DOCUMENT WITH "Attach your contract (PDF)."'),
}

MAGICS: dict[str, str] = {
    "%bot": _doc("%bot [NAME]", "Without NAME, shows the current bot and the bots there are; with NAME, "
                 "switches to that bot and starts a new session.", "%bot support"),
    "%session": _doc("%session [new | resume ID | attach ID | list | end]", "Without arguments, shows the "
                     "session (id, bot, channel, status, messages, the HEAR it waits at). `new` starts a "
                     "session, `resume`/`attach` continue an existing one (e.g. from the web chat), `list` "
                     "lists the bot's sessions, `end` ends this one.", "%session attach 3f2a9c1e-..."),
    "%user": _doc("%user TEXT", "Sends TEXT as the user's message: it answers the HEAR the session waits "
                  "at, or goes to the bot's fallback.", "%user I want a refund"),
    "%answers": _doc("%answers A | B | C", "On the first lines of a cell: the answers to the cell's HEARs, "
                     "in order, so the cell runs without asking (notebooks in CI).",
                     '%answers Ann | 42\nHEAR name\nHEAR age AS INTEGER\nTALK name + " is " + age'),
    "%vars": _doc("%vars", "Shows the session's variables and their values as a table.", "%vars"),
    "%history": _doc("%history", "Shows the session's messages, user and bot.", "%history"),
    "%chat": _doc("%chat", "Opens the chat widget on this session: a chat panel and its variables; "
                  "type there to answer HEARs.", "%chat"),
    "%run": _doc("%run DIALOG", "Runs a dialog of the bot (a .bas of its .gbdialog) in this session.",
                 "%run start"),
    "%%transcript": _doc("%%transcript [BOT] [DIALOG]", "A cell magic: the cell is a conversation of "
                         "`user:` and `bot:` lines. The user lines are sent to a new session of BOT "
                         "running DIALOG (default: start); the cell fails with a diff when the bot's "
                         "replies differ.", '%%transcript support start\nbot: Welcome to Support!\n'
                         "user: Refund"),
}


def _builtin_help(name: str) -> str:
    """A built-in's DOCS line ("LEN(x) -> ...") as Markdown."""
    signature, _, text = DOCS[name].partition(" -> ")
    return f"`{signature}` → {text}" if text else f"`{signature}`"


def _magic_help(word: str) -> str | None:
    name = word.lstrip("%").split(maxsplit=1)[0].lower() if word.strip("% \t") else ""
    return MAGICS.get(f"%{name}") or MAGICS.get(f"%%{name}")


def _by_first_words(words: str) -> str | None:
    """The help of the only multi-word keyword that starts with `words` (``SEND`` -> ``SEND MAIL``)."""
    texts = {text for key, text in KEYWORDS.items() if key.replace("_", " ").startswith(words + " ")}
    return texts.pop() if len(texts) == 1 else None


def help_for(word: str) -> str | None:
    """The Markdown help of a keyword, built-in function, HEAR type or magic; None if there is none.

    Case-insensitive; ``SET_BOT_MEMORY`` and ``SET BOT MEMORY`` are the same keyword. A word that
    is several things (``MOD``: operator and function; ``HOUR``: function and HEAR type) gets
    every section. Words that only start multi-word keywords get the help of that keyword when
    there is one (``SEND`` -> ``SEND MAIL``, ``SET BOT`` -> ``SET BOT MEMORY``), and None when
    there are several (``USE``: ``USE KB``, ``USE TOOL``).

    Args:
        word: the word (or phrase) under the cursor; magics start with ``%``.
    """
    if word.lstrip().startswith("%"):
        return _magic_help(word.strip())
    key = " ".join(word.split()).upper()
    if not key:
        return None
    sections = [
        KEYWORDS.get(key) or KEYWORDS.get(key.replace("_", " ")),
        _builtin_help(key) if key in DOCS else None,
        HEAR_TYPE_DOCS.get(key),
    ]
    found = [s for s in sections if s]
    if found:
        return "\n\n---\n\n".join(found)
    return _by_first_words(key.replace("_", " "))


def completions(prefix: str, *, variables: Iterable[str] = (), dialogs: Iterable[str] = ()) -> list[str]:
    """The words that complete `prefix`: keywords, built-ins, variables, dialog names, or magics.

    Matching ignores case. Keywords and built-ins come in the prefix's style: lower case for a
    lower-case prefix (``ta`` -> ``talk``), upper case otherwise; variables and dialog names keep
    their own spelling. A prefix starting with ``%`` completes magics only.

    Args:
        prefix: the text before the cursor, back to the start of the word.
        variables: the session's variable names.
        dialogs: the bot's dialog names (for ``%run``).

    Returns:
        The matches, sorted case-insensitively, without duplicates.
    """
    if prefix.startswith("%"):
        return sorted(m for m in MAGICS if m.startswith(prefix.lower()))
    upper = prefix.upper()
    lower = prefix.islower()
    words = {w.lower() if lower else w for w in (*KEYWORDS, *DOCS) if w.startswith(upper)}
    words.update(n for n in (*variables, *dialogs) if n.upper().startswith(upper))
    return sorted(words, key=lambda w: (w.lower(), w))
