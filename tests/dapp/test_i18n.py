"""The translation table: consistent, complete in Italian, and naming every key the dApp asks for."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from dapp import i18n

DAPP = Path(i18n.__file__).resolve().parents[1]


def _keys_used() -> dict[str, str]:
    """Every literal key passed to `t(...)` in the dApp's code, with where it is."""
    used: dict[str, str] = {}
    for path in DAPP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used[node.args[0].value] = f"{path.relative_to(DAPP)}:{node.lineno}"
    return used


def test_every_key_the_dapp_uses_is_in_the_table():
    table = i18n.table()
    missing = {key: where for key, where in _keys_used().items() if key not in table}
    assert not missing, f"keys used but not translated: {missing}"


def test_the_table_loads_and_has_italian_for_every_key():
    table = i18n.table()
    assert table and all(texts["it"].strip() and texts["en"].strip() for texts in table.values())


def test_t_formats_in_the_language_asked_and_defaults_to_italian():
    assert i18n.t("common.language") == "Lingua"
    assert i18n.t("common.language", language="en") == "Language"


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"a.json": {"k": {"it": "x", "en": "y"}}, "b.json": {"k": {"it": "x", "en": "y"}}}, "both"),
        ({"a.json": {"k": {"it": "x"}}}, "no text in en"),
        ({"a.json": {"k": {"it": "ciao {nome}", "en": "hello {name}"}}}, "other placeholders"),
    ],
)
def test_an_inconsistent_table_is_refused(tmp_path, monkeypatch, files, problem):
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content))
    monkeypatch.setattr(i18n, "TABLE_DIR", tmp_path)
    i18n.table.cache_clear()
    try:
        with pytest.raises(i18n.TranslationError, match=problem):
            i18n.table()
    finally:
        i18n.table.cache_clear()
