"""A local SMTP sink (aiosmtpd) that keeps every message it receives, for the e-mails Keycloak sends (the
verification of a new address) and the tests that read them.

`MailSink().start()` listens on a free loopback port; `.wait_for(to)` returns the first message to that address
(as an `email.message.EmailMessage`); `link(message)` is the first http(s) link of its plain-text body.
"""

from __future__ import annotations

import email
import re
import threading
import time
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.ports import free_port


class MailSink:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname=host, port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> EmailMessage:
        """The `count`-th message to `address`, waiting for it (Keycloak sends before answering, so this is a
        ceiling for a slow machine, not a measured delay)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"No message number {count} to {address} within {timeout} s; got {len(self.to(address))}.")


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None, "the message has no text body"
    return str(part.get_content())  # type: ignore[attr-defined]


def link(message: EmailMessage) -> str:
    found = re.search(r"https?://[^\s\"<>]+", body(message))
    assert found, f"no link in the message:\n{body(message)}"
    return found.group(0)
