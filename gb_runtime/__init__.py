"""gb_runtime: bot packages and the DialogRuntime, the one door into a bot."""

from .bots import BotPackage, BotRegistry, BotSettings, UnknownBot
from .messages import Inbound, Reply, Result
from .runtime import DialogRuntime, waiting_of

__all__ = ["BotPackage", "BotRegistry", "BotSettings", "DialogRuntime", "Inbound", "Reply", "Result", "UnknownBot",
           "waiting_of"]
