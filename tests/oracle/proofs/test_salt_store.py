"""Salts are created once, reused on every re-run, and erased for a forgotten member only."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from oracle.proofs.store import LeafSalt, ensure_salts, forget_devices, get_salts


def _session(tmp_path) -> Session:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'salts.db'}")
    SQLModel.metadata.create_all(engine, tables=[LeafSalt.__table__])
    return Session(engine)


def test_salts_are_fresh_per_leaf_and_stable_across_runs(tmp_path):
    with _session(tmp_path) as session:
        first = ensure_salts(session, 1, 20261125, ["A", "B"])
        assert len({*first.values()}) == 2 and all(len(s) == 32 for s in first.values())
        again = ensure_salts(session, 1, 20261125, ["B", "A", "C"])
        assert again["A"] == first["A"] and again["B"] == first["B"] and len(again) == 3
        other_day = ensure_salts(session, 1, 20261126, ["A"])
        assert other_day["A"] != first["A"]


def test_forgetting_a_member_erases_its_salts_and_its_multi_flow_leaves_only(tmp_path):
    with _session(tmp_path) as session:
        ensure_salts(session, 1, 20261125, ["POD1", "POD1#exchange", "POD1#storage", "POD10", "POD2"])
        ensure_salts(session, 1, 20261126, ["POD1"])
        assert forget_devices(session, ["POD1"]) == 4
        assert sorted(get_salts(session, 1, 20261125)) == ["POD10", "POD2"]
        assert get_salts(session, 1, 20261126) == {}
        assert forget_devices(session, []) == 0
