"""The OpenAPI 3.1 document of the HTTP API (served at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

__all__ = ["OPENAPI"]

_ERROR = {"description": "an error",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_RETRY = {**_ERROR, "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}}
_MESSAGES = {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}
_SUGGESTIONS = {"type": "array", "items": {"$ref": "#/components/schemas/Suggestion"},
                "description": "the buttons the bot offers now (ADD SUGGESTION, ADD SWITCHER): show them with the "
                               "last reply, in place of earlier ones; a click sends `value` as a message"}
_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): _RETRY if c in (429, 503) else _ERROR for c in codes}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_SESSION = {"type": "object", "required": ["session_id", "bot", "channel", "status"], "properties": {
    "session_id": _UUID, "bot": {"type": "string"}, "channel": {"type": "string"}, "status": {"type": "string"},
    "created_at": _TIME, "last_activity": _TIME, "message_count": {"type": "integer"},
    "waiting": {"$ref": "#/components/schemas/Waiting"}, "suggestions": _SUGGESTIONS}}
_STARTED = {"type": "object", "required": ["session_id", "token", "bot", "messages", "waiting", "suggestions"],
            "properties": {"session_id": _UUID, "token": {"type": "string"}, "bot": {"type": "string"},
                           "messages": _MESSAGES, "waiting": {"$ref": "#/components/schemas/Waiting"},
                           "suggestions": _SUGGESTIONS}}
_REPLIES: dict[str, Any] = {
    "type": "object", "required": ["session_id", "bot", "messages", "waiting", "suggestions"], "properties": {
    "session_id": _UUID, "bot": {"type": "string"}, "messages": _MESSAGES,
    "waiting": {"$ref": "#/components/schemas/Waiting"}, "suggestions": _SUGGESTIONS}}
_DL_TOKEN = {"type": "object", "required": ["conversationId", "token", "expires_in"], "properties": {
    "conversationId": _UUID, "token": {"type": "string"}, "expires_in": {"type": "integer"}}}
_DL_CONVERSATION = {"type": "object", "required": ["conversationId", "token", "expires_in", "streamUrl"],
                    "properties": {"conversationId": _UUID, "token": {"type": "string"},
                                   "expires_in": {"type": "integer"}, "streamUrl": {"type": "string"}}}
_DL_USER = {"type": "object", "properties": {"user": {"type": ["object", "null"], "properties": {
    "id": {"type": "string"}}}}}
_DL_CID = [{"name": "conversationId", "in": "path", "required": True, "schema": _UUID},
           {"name": "watermark", "in": "query", "required": False, "schema": {"type": "string"},
            "description": "the last watermark seen (a message row id); anything else counts as none"}]
_HISTORY = {"type": "object", "required": ["session_id", "messages"], "properties": {
    "session_id": _UUID, "messages": _MESSAGES, "waiting": {"$ref": "#/components/schemas/Waiting"},
    "suggestions": _SUGGESTIONS}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "gb bot server", "version": "0.1.0",
             "description": "Sessions and chat with General Bots BASIC bots. Every /api path also exists under "
                            "/{bot}/ for a bot other than `default` (404 `unknown_bot` for a bot that does not "
                            "exist; 401 `wrong_bot` for another bot's token); the unprefixed paths that take a "
                            "token serve the token's bot. Live replies: the WebSocket /ws (/{bot}/ws): send "
                            '{"type": "hello", "token": ...} first, then {"type": "message", "text": ...}. '
                            "The /v3/directline paths (the default bot; /{bot}/v3/directline for another) are a "
                            "Direct Line 3.0 subset, so Microsoft's botframework-webchat talks to a bot unchanged; "
                            "their errors use Direct Line's codes (BadArgument, BadSyntax, Unauthorized, "
                            "TokenExpired, NotFound, TooManyRequests)."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
            "Message": {"type": "object", "required": ["role", "content"], "properties": {
                "role": {"type": "string", "enum": ["user", "assistant", "system"]},
                "content": {"type": "string"}, "choices": {"type": "array", "items": {"type": "string"}},
                "to": {"type": "string"}, "timestamp": _TIME,
                "file": {"$ref": "#/components/schemas/File"},
                "id": {"type": ["integer", "null"], "description": "the stored message's row id"}}},
            "Activity": {"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "description": "message (a turn); any other type is acknowledged"},
                "id": {"type": "string"}, "timestamp": {"type": "string"}, "text": {"type": ["string", "null"]},
                "localTimestamp": {"type": "string"},
                "value": {}, "from": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}}},
                "channelData": {}, "locale": {"type": "string"}, "entities": {"type": "array"},
                "suggestedActions": {"type": "object"}}},
            "File": {"type": "object", "required": ["name", "type", "size", "url"],
                     "description": "a file a message carries (an upload, SEND FILE); docs/files.md", "properties": {
                         "id": {"type": ["string", "null"], "description": "the stored file's (null: a URL)"},
                         "name": {"type": "string"}, "type": {"type": "string",
                                                              "description": "MIME type, sniffed from the content"},
                         "size": {"type": ["integer", "null"], "description": "bytes"},
                         "url": {"type": "string", "description": "/{bot}/files/{id}, or the dialog's URL"}}},
            "Suggestion": {"type": "object", "required": ["kind", "text", "value"], "properties": {
                "kind": {"type": "string", "enum": ["text", "context", "tool", "switcher"],
                         "description": "text: ADD SUGGESTION text; context: ADD SUGGESTION name AS text (a click "
                                        "selects the context); tool: ADD SUGGESTION TOOL name AS text (a click "
                                        "runs the tool); switcher: ADD SWITCHER name AS text (a click toggles it)"},
                "text": {"type": "string", "description": "what the button shows"},
                "value": {"type": "string", "description": "what a click sends as the user's message"},
                "name": {"type": "string", "description": "the context, tool or switcher it names"},
                "params": {"type": "array", "description": "a tool's values for its PARAMs"},
                "active": {"type": "boolean", "description": "a switcher that is on"}}},
            "Waiting": {"type": ["object", "null"], "properties": {
                "variable": {"type": ["string", "null"]}, "type": {"type": ["string", "null"]},
                "choices": {"type": ["array", "null"], "items": {"type": "string"}},
                "line": {"type": ["integer", "null"]},
                "kind": {"type": "string", "enum": ["hear", "wait"],
                         "description": "hear: the next message answers it; wait: the dialog goes on by itself "
                                        "at `due` (messages before then answer the HEARs after the WAIT)"},
                "due": {"type": ["string", "null"], "format": "date-time"}}},
        },
    },
    "paths": {
        "/api/session": {
            "post": {"summary": "Start a session; start.bas runs", "requestBody": {"required": False, "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "bot": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]+$",
                            "description": "the bot (`default` when absent or null)"}}}}}},
                "responses": {"201": _json(_STARTED, "the session, its token (shown once) and the first replies"),
                              **_errors(400, 404, 413, 429, 500, 503)}},
            "get": {"summary": "The session of the token", "security": _BEARER,
                    "responses": {"200": _json(_SESSION, "the session"), **_errors(401, 503)}},
            "delete": {"summary": "End the session", "security": _BEARER,
                       "responses": {"204": {"description": "ended"}, **_errors(401, 503)}},
        },
        "/api/chat": {"post": {
            "summary": "Send a message; the replies come back once stored", "security": _BEARER,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["message"],
                "properties": {"message": {"type": "string", "maxLength": 4000, "pattern": "\\S"}}}}}},
            "responses": {"200": _json(_REPLIES, "the bot's replies"), **_errors(400, 401, 413, 429, 500, 503)}}},
        "/api/upload": {"post": {
            "summary": "Send a file (the answer to a waiting HEAR AS FILE/IMAGE/AUDIO/DOCUMENT); at most the bot's "
                       "max-upload-mb", "security": _BEARER,
            "parameters": [{"name": "name", "in": "query", "required": False, "schema": {"type": "string"},
                            "description": "the file's name, for a raw body"}],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"}}}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": _json({**_REPLIES, "properties": {
                **_REPLIES["properties"], "file": {"$ref": "#/components/schemas/File"},
                "received": {"$ref": "#/components/schemas/Message"}}}, "the stored file and the bot's replies"),
                **_errors(400, 401, 413, 429, 500, 503)}}},
        "/files/{fileId}": {"get": {
            "summary": "A stored file (the default bot's; /{bot}/files/{fileId} for another): no token, the id is "
                       "the capability", "parameters": [{"name": "fileId", "in": "path", "required": True,
                                                         "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the file, with its sniffed Content-Type and nosniff",
                                  "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                      "format": "binary"}}}},
                          **_errors(404)}}},
        "/api/session/history": {"get": {
            "summary": "Every message of the session", "security": _BEARER,
            "responses": {"200": _json(_HISTORY, "the history"), **_errors(401, 503)}}},
        "/v3/directline/tokens/generate": {"post": {
            "summary": "Direct Line: start a conversation (start.bas runs) and get its token",
            "requestBody": {"required": False, "content": {"application/json": {"schema": _DL_USER}}},
            "responses": {"200": _json(_DL_TOKEN, "the conversation and its token"),
                          **_errors(400, 404, 413, 500, 503)}}},
        "/v3/directline/tokens/refresh": {"post": {
            "summary": "Direct Line: the same token, a new lifetime", "security": _BEARER,
            "responses": {"200": _json(_DL_TOKEN, "the token"), **_errors(401, 403, 404, 503)}}},
        "/v3/directline/conversations": {"post": {
            "summary": "Direct Line: the token's conversation and its stream URL", "security": _BEARER,
            "requestBody": {"required": False, "content": {"application/json": {"schema": _DL_USER}}},
            "responses": {"201": _json(_DL_CONVERSATION, "the conversation"),
                          **_errors(400, 401, 403, 404, 413, 503)}}},
        "/v3/directline/conversations/{conversationId}": {"get": {
            "summary": "Direct Line: a fresh stream URL (a reconnect)", "security": _BEARER, "parameters": _DL_CID,
            "responses": {"200": _json(_DL_CONVERSATION, "the conversation"), **_errors(400, 401, 403, 404, 503)}}},
        "/v3/directline/conversations/{conversationId}/activities": {
            "get": {"summary": "Direct Line: the activities after a watermark (polling)", "security": _BEARER,
                    "parameters": _DL_CID,
                    "responses": {"200": _json({"type": "object", "required": ["activities", "watermark"],
                                                "properties": {"activities": {"type": "array", "items": {
                                                    "$ref": "#/components/schemas/Activity"}},
                                                    "watermark": {"type": "string"}}}, "the activities"),
                                  **_errors(401, 403, 404, 503)}},
            "post": {"summary": "Direct Line: send an activity (a message is one turn)", "security": _BEARER,
                     "parameters": _DL_CID[:1],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "$ref": "#/components/schemas/Activity"}}}},
                     "responses": {"200": _json({"type": "object", "required": ["id"],
                                                 "properties": {"id": {"type": "string"}}}, "the activity's id"),
                                   **_errors(400, 401, 403, 404, 413, 429, 500, 503)}}},
        "/healthz": {"get": {"summary": "Health", "responses": {
            "200": _json({"type": "object", "properties": {"status": {"type": "string"},
                                                           "sockets": {"type": "integer"}}}, "healthy"),
            **_errors(503)}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
            "description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    },
}
