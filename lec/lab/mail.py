"""E-mail copies of the living lab's messages: one plain-text message per recipient through the SMTP server in
`Settings` (`LEC_SMTP_HOST`, `LEC_SMTP_PORT`, `LEC_SMTP_FROM`, the variables Keycloak's realm uses too), with
`smtplib`. The voice service decides who gets one (opted in, category not muted) and records it once."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from lec.settings import Settings


def enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def compose(settings: Settings, to: str, subject: str, body: str, community: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = f"[{community}] {subject}"
    message.set_content(
        f"{body}\n\n-- \n{community}: you receive this copy because you asked for e-mails in your inbox settings "
        "(Ricevi questa copia perché hai chiesto le e-mail nelle impostazioni della tua casella)."
    )
    return message


def send(settings: Settings, messages: list[EmailMessage]) -> int:
    """Hands the messages to the SMTP server in one connection, in order; returns how many it accepted (the
    first refusal stops there, so the caller knows exactly which were sent). No server configured: 0."""
    if not messages or not settings.smtp_host:
        return 0
    accepted = 0
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            for message in messages:
                smtp.send_message(message)
                accepted += 1
    except (OSError, smtplib.SMTPException):
        return accepted
    return accepted
