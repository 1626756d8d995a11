"""Wallet binding by Sign-In-With-Ethereum (EIP-4361): nonces issued once, messages checked strictly."""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eth_keys.exceptions import BadSignature
from eth_utils import to_checksum_address

with warnings.catch_warnings():
    # siwe's grammar redefines RFC 5234 core rules; abnf warns about it on import, harmlessly.
    warnings.simplefilter("ignore")
    from siwe import SiweMessage, VerificationError


class BindingError(ValueError):
    """The signed message cannot bind a wallet; the message says why."""


STATEMENT = "Bind this wallet to my account in the Local Energy Community platform."


def new_nonce() -> str:
    """An EIP-4361 nonce: at least 8 alphanumeric characters; 24 from a CSPRNG here."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(24))


def build_message(
    address: str, domain: str, uri: str, chain_id: int, nonce: str, issued_at: datetime, expires_at: datetime
) -> str:
    """The exact text the wallet signs (personal_sign) for `address`."""
    message = SiweMessage(
        domain=domain,
        address=to_checksum_address(address),
        statement=STATEMENT,
        uri=uri,
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        expiration_time=expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    )
    return message.prepare_message()


@dataclass(frozen=True)
class VerifiedBinding:
    address: str
    nonce: str


def verify(
    message_text: str, signature: str, domain: str, chain_id: int, *, uri: str, now: datetime | None = None
) -> VerifiedBinding:
    """Parse and verify a signed SIWE message: grammar, domain, URI, statement, chain, expiry and the signer's
    address — everything `build_message` put in it, so a message prepared by another site or for another purpose
    binds nothing here.

    The nonce's freshness and single use are checked by the caller against the nonces table.
    """
    try:
        message = SiweMessage.from_message(message_text)
    except (ValueError, TypeError) as exc:
        raise BindingError(f"The message is not an EIP-4361 (Sign-In with Ethereum) message: {exc}.") from exc
    if int(message.chain_id) != chain_id:
        raise BindingError(f"The message is for chain {message.chain_id}, but the platform's chain is {chain_id}.")
    if message.expiration_time is None:
        raise BindingError("The message has no expiration time; ask for a new nonce and sign the message it returns.")
    if message.uri != uri:
        raise BindingError(f"The message names the URI {message.uri!r}, not this platform's {uri!r}; sign ours.")
    if message.statement != STATEMENT:
        raise BindingError("The message's statement is not the platform's; sign the message the challenge returned.")
    try:
        message.verify(signature, domain=domain, timestamp=now or datetime.now(UTC))
    except VerificationError as exc:
        raise BindingError(_explain(exc, domain)) from exc
    except (ValueError, BadSignature) as exc:  # eth_keys refuses an impossible signature (v, r or s) outright
        raise BindingError(
            "The signature is malformed (not a signature any key could make); sign the message again."
        ) from exc
    return VerifiedBinding(address=to_checksum_address(message.address), nonce=message.nonce)


def _explain(exc: VerificationError, domain: str) -> str:
    name = type(exc).__name__
    return {
        "DomainMismatch": f"The message was prepared for another site; it must name {domain}.",
        "ExpiredMessage": "The message has expired; ask for a new nonce and sign again.",
        "NotYetValidMessage": "The message is not valid yet (not-before in the future).",
        "InvalidSignature": "The signature does not match the address in the message.",
    }.get(name, f"The message does not verify ({name}).")


def nonce_expiry(now: datetime, ttl_seconds: int) -> datetime:
    return now + timedelta(seconds=ttl_seconds)
