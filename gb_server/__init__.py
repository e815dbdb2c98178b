"""gb_server: the production front. A Tornado server: HTTP API, web chat, WebSocket."""

from .app import Context, make_app
from .settings import ServerSettings

__all__ = ["Context", "ServerSettings", "make_app"]
