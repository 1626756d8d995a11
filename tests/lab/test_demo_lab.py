"""`lec demo-lab` (the living lab's part of `make demo`) refuses to run where its anvil test keys would sign for a
chain that is not on this machine, and says what to run first when the demo community is missing. Its full run,
twice over with nothing changed the second time, is in tests/scripts/test_demo_second_run.py."""

from __future__ import annotations

import click
import pytest

from dapp.api.demo_lab import seed_lab


def test_a_chain_that_is_not_local_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("LEC_RPC_URL", "http://192.0.2.10:8545")
    with pytest.raises(click.ClickException, match="local chain only"):
        seed_lab(f"sqlite:///{tmp_path / 'lec.db'}")


def test_an_empty_database_asks_for_the_demo_community_first(monkeypatch, tmp_path):
    monkeypatch.setenv("LEC_RPC_URL", "http://127.0.0.1:9")
    with pytest.raises(click.ClickException, match="make demo-oracle"):
        seed_lab(f"sqlite:///{tmp_path / 'lec.db'}")
