"""Helpers of the script tests (a module of its own: `from conftest import …` can load another folder's
conftest when the whole suite runs)."""

from __future__ import annotations

import requests


def rpc(url: str, method: str, *params):
    reply = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10)
    return reply.json()["result"]
