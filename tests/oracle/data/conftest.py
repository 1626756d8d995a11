"""Fixtures of the data-side tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_world import World, build_world

from lec.db.session import get_engine, init_db


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(init_db(get_engine(f"sqlite:///{tmp_path / 'lec.db'}")))
