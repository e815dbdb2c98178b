"""Channels: other clients' protocols mapped onto gb sessions.

directline.py (Microsoft's Web Chat), and the platform channels on the one seam of base.py:
whatsapp.py (Meta's Cloud API), telegram.py (Telegram's Bot API), twilio.py (SMS and voice
calls), teams.py (Microsoft Teams: the Bot Framework's activities), email.py (SMTP out; its
mailbox read over IMAP by mailbox.py's poller, not a webhook); each other has a webhook
(webhook.py) that stores what it brings in the inbox before answering, and the dispatcher
(dispatch.py) that handles the inbox's messages and delivers the outbox's.
"""

from .base import Channel
from .email import Email
from .teams import Teams
from .telegram import Telegram
from .twilio import TwilioSms, TwilioVoice
from .whatsapp import WhatsApp

__all__ = ["KINDS", "Channel"]

KINDS: list[type[Channel]] = [WhatsApp, Telegram, TwilioSms, TwilioVoice, Teams, Email]
