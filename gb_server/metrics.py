"""Prometheus metrics of one server process (``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]


class Metrics:
    """Messages, errors, open sockets and message latency, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter("gb_messages_total", "User messages handled", ["bot", "channel"],
                                registry=self.registry)
        self.errors = Counter("gb_errors_total", "Requests refused, by error code", ["code"], registry=self.registry)
        self.sessions_started = Counter("gb_sessions_started_total", "Sessions started", ["bot"],
                                        registry=self.registry)
        self.active_sessions = Gauge("gb_active_sessions", "Sessions with a message within their idle timeout",
                                     registry=self.registry)
        self.sockets = Gauge("gb_open_websockets", "Open chat WebSockets in this process", registry=self.registry)
        self.latency = Histogram("gb_message_seconds", "Time to handle one user message (seconds)", ["bot"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.channel_in = Counter("gb_channel_inbound_total", "Channel webhook messages, by outcome (stored, "
                                  "redelivered: stored before)", ["bot", "channel", "outcome"], registry=self.registry)
        self.channel_out = Counter("gb_channel_outbound_total", "Channel deliveries, by outcome (sent, retry, dead)",
                                   ["channel", "outcome"], registry=self.registry)

        self.open_sockets = 0

    def socket_opened(self) -> None:
        self.open_sockets += 1
        self.sockets.inc()

    def socket_closed(self) -> None:
        self.open_sockets -= 1
        self.sockets.dec()

    def render(self) -> bytes:
        return generate_latest(self.registry)
