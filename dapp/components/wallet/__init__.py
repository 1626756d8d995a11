"""The wallet bridge: a Streamlit component that forwards EIP-1193 requests to the browser wallet.

Pages never talk to the wallet directly. They queue one request (`ask`) from a button callback; the bridge,
rendered once per run in the sidebar by `app.py`, hands it to MetaMask exactly once and files the answer
under the request's purpose, where the page reads it (`answer`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from dapp.i18n import t

_FRONTEND = Path(__file__).parent / "frontend"
_bridge = components.declare_component("lec_wallet", path=str(_FRONTEND))

BRIDGE_TEXTS = ("missing", "found", "connected", "chain", "on_lec", "not_lec")
PENDING_KEY = "wallet_pending"
ANSWERS_KEY = "wallet_answers"
STATE_KEY = "wallet_state"

# EIP-1193 / EIP-1474 / MetaMask error codes, as sentences for the person at the wallet.
_WALLET_ERRORS = {
    -1: "No browser wallet was found: install MetaMask (or another EIP-1193 wallet) and reload the page.",
    4001: "You rejected the request in your wallet; nothing was sent.",
    4100: "The wallet has not authorised this site yet: connect the wallet first.",
    4200: "Your wallet does not support this request.",
    4900: "Your wallet is disconnected from every network: check its network settings.",
    4901: "Your wallet is not connected to the requested network: switch to the LEC network.",
    4902: "Your wallet does not know the LEC network yet: add it with “Add the LEC network”.",
    -32002: "Your wallet already has a request waiting: open MetaMask and answer it first.",
    -32603: "The wallet could not complete the request (internal error); try again.",
}


@dataclass(frozen=True)
class WalletState:
    """What the browser wallet reported on its last answer."""

    installed: bool | None = None  # None until the component has loaded in the browser
    accounts: list[str] = field(default_factory=list)
    chain_id: int | None = None

    @property
    def account(self) -> str | None:
        return self.accounts[0] if self.accounts else None

    def on_chain(self, chain_id: int) -> bool:
        return self.chain_id == chain_id


@dataclass(frozen=True)
class WalletAnswer:
    purpose: str
    value: Any = None
    error_code: int | None = None
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def sentence(self) -> str:
        return wallet_error_sentence(self.error_code, self.error_message) if not self.ok else ""


def wallet_error_sentence(code: int | None, message: str = "") -> str:
    """A sentence for a wallet's error answer; unknown codes keep the wallet's own words."""
    if code in _WALLET_ERRORS:
        return _WALLET_ERRORS[code]
    detail = f" ({message})" if message else ""
    return f"The wallet refused the request{detail}. Check the wallet and try again."


def parse_state(raw: dict[str, Any] | None) -> WalletState:
    if not raw:
        return WalletState()
    chain = raw.get("chainId")
    return WalletState(
        installed=bool(raw.get("installed")),
        accounts=[a for a in raw.get("accounts") or [] if isinstance(a, str)],
        chain_id=int(chain, 16) if isinstance(chain, str) and chain.startswith("0x") else None,
    )


def ask(purpose: str, method: str, params: Any = None) -> None:
    """Queues one wallet request; call it from a button's `on_click` so it reaches this very run."""
    request = {"id": uuid.uuid4().hex, "purpose": purpose, "method": method, "params": params or []}
    st.session_state[PENDING_KEY] = request
    st.session_state.setdefault(ANSWERS_KEY, {}).pop(purpose, None)


def answer(purpose: str) -> WalletAnswer | None:
    """The wallet's answer to the last request made for `purpose`, once it has arrived."""
    return st.session_state.get(ANSWERS_KEY, {}).get(purpose)


def waiting(purpose: str) -> bool:
    pending = st.session_state.get(PENDING_KEY)
    return bool(pending and pending["purpose"] == purpose)


def state() -> WalletState:
    return st.session_state.get(STATE_KEY, WalletState())


def render_bridge(chain_id: int, key: str = "lec_wallet") -> WalletState:
    """Renders the bridge (once per run), forwards the pending request and files the wallet's answer."""
    pending = st.session_state.get(PENDING_KEY)
    request = {k: pending[k] for k in ("id", "method", "params")} if pending else None
    # The bridge's own status line in the dApp's language (the frame keeps English words as a fallback).
    texts = {name: t(f"wallet.bridge_{name}") for name in BRIDGE_TEXTS}
    raw = _bridge(request=request, chain_id_hex=hex(chain_id), texts=texts, key=key, default=None)
    current = parse_state(raw)
    st.session_state[STATE_KEY] = current
    result = (raw or {}).get("result")
    if pending and result and result.get("id") == pending["id"]:
        error = result.get("error")
        st.session_state.setdefault(ANSWERS_KEY, {})[pending["purpose"]] = WalletAnswer(
            purpose=pending["purpose"],
            value=result.get("value"),
            error_code=None if error is None else int(error.get("code") or 0),
            error_message="" if error is None else str(error.get("message") or ""),
        )
        del st.session_state[PENDING_KEY]
    return current
