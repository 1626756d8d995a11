"""Shared by the dApp's tests (imported by name: tests/dapp is on sys.path under pytest)."""

from __future__ import annotations

import time

import requests

PASSWORD = "demo-password"  # of the demo users created in the local realm for the tests


def wait_for(check, what: str, attempts: int = 300) -> None:
    """Polls until `check()` is true; gives up with a sentence after `attempts` tries (0.1 s apart)."""
    for _ in range(attempts):
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up.")
