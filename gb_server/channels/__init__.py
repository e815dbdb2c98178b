"""Channels: other clients' protocols mapped onto gb sessions."""
