"""A local SMTP catcher (aiosmtpd) for end-to-end email tests: real SMTP, nothing leaves."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Catcher:
    """Collects delivered messages; `refuse_next` makes the next N deliveries fail with 451."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Message] = field(default_factory=list)
    received_at: dict[str, float] = field(default_factory=dict)  # Message-ID -> first arrival (epoch)
    refuse_next: int = 0
    stall_first_greeting_seconds: float = 0.0  # hold the first connection at EHLO, as a hung server would
    stalled: threading.Event = field(default_factory=threading.Event)
    data_delay_seconds: float = 0.0  # a slow relay: each message takes this long to be accepted
    # Keep the first message, then hold the answer: the relay has it, the sender does not know.
    hold_first_answer_seconds: float = 0.0
    held: threading.Event = field(default_factory=threading.Event)
    greetings: int = 0  # EHLOs received: one per SMTP session that sent something
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        if self.stall_first_greeting_seconds and not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(self.stall_first_greeting_seconds)
        session.host_name = hostname
        with self._lock:
            self.greetings += 1
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay_seconds:
            await asyncio.sleep(self.data_delay_seconds)
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 Requested action aborted: try again later"
            message = email.message_from_bytes(envelope.content)
            self.messages.append(message)
            self.received_at.setdefault(str(message["Message-ID"]), time.time())
            hold = self.hold_first_answer_seconds and not self.held.is_set()
            if hold:
                self.held.set()
        if hold:
            await asyncio.sleep(self.hold_first_answer_seconds)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    @property
    def env(self) -> dict[str, str]:
        """Settings for a worker process that should send here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": str(self.port),
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_catcher() -> Iterator[Catcher]:
    with listening(relay_down()) as catcher:
        yield catcher


def relay_down() -> Catcher:
    """A catcher on a free port where nothing listens yet: connections are refused, as by a
    relay that is down, until `listening(catcher)` brings it up."""
    return Catcher(port=_free_port())


@contextmanager
def listening(catcher: Catcher) -> Iterator[Catcher]:
    controller = Controller(catcher, hostname=catcher.host, port=catcher.port)
    controller.start()
    try:
        yield catcher
    finally:
        controller.stop()


def text_and_html(message: Message) -> tuple[str, str]:
    parts: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_type() in {"text/plain", "text/html"}:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return parts["text/plain"], parts["text/html"]
