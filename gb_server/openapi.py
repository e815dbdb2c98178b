"""The OpenAPI 3.1 document of the HTTP API (served at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

__all__ = ["OPENAPI"]

_ERROR = {"description": "an error",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_MESSAGES = {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): _ERROR for c in codes}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "gb bot server", "version": "0.1.0",
             "description": "Sessions and chat with General Bots BASIC bots. Every path also exists under "
                            "/{bot}/ for a bot other than `default`."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
            "Message": {"type": "object", "required": ["role", "content"], "properties": {
                "role": {"type": "string", "enum": ["user", "assistant", "system"]},
                "content": {"type": "string"}, "choices": {"type": "array", "items": {"type": "string"}},
                "to": {"type": "string"}, "timestamp": {"type": "string"}}},
            "Waiting": {"type": ["object", "null"], "properties": {
                "variable": {"type": ["string", "null"]}, "type": {"type": ["string", "null"]},
                "choices": {"type": ["array", "null"], "items": {"type": "string"}},
                "line": {"type": ["integer", "null"]}}},
        },
    },
    "paths": {
        "/api/session": {
            "post": {"summary": "Start a session; start.bas runs", "requestBody": {"required": False, "content": {
                "application/json": {"schema": {"type": "object", "properties": {"bot": {"type": "string"}}}}}},
                "responses": {"201": {"description": "the session, its token (shown once) and the first replies",
                                      "content": {"application/json": {"schema": {"type": "object", "properties": {
                                          "session_id": {"type": "string"}, "token": {"type": "string"},
                                          "bot": {"type": "string"},
                                          "messages": _MESSAGES,
                                          "waiting": {"$ref": "#/components/schemas/Waiting"}}}}}},
                              **_errors(400, 404, 413, 503)}},
            "get": {"summary": "The session of the token", "security": _BEARER,
                    "responses": {"200": {"description": "the session"}, **_errors(401, 503)}},
            "delete": {"summary": "End the session", "security": _BEARER,
                       "responses": {"204": {"description": "ended"}, **_errors(401, 503)}},
        },
        "/api/chat": {"post": {
            "summary": "Send a message; the replies come back once stored", "security": _BEARER,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}}}},
            "responses": {"200": {"description": "the bot's replies", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "session_id": {"type": "string"},
                    "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "waiting": {"$ref": "#/components/schemas/Waiting"}}}}}},
                **_errors(400, 401, 413, 429, 503)}}},
        "/api/session/history": {"get": {
            "summary": "Every message of the session", "security": _BEARER,
            "responses": {"200": {"description": "the history"}, **_errors(401, 503)}}},
        "/healthz": {"get": {"summary": "Health", "responses": {"200": {"description": "healthy"}, **_errors(503)}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "metrics"}}}},
    },
}
