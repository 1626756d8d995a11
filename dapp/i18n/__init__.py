"""The one translation table of every string a resident reads in the dApp, Italian first.

The table is split by domain (`dapp/i18n/<domain>.json`, one owner each) and merged at load: each file maps a
key to its texts, ``{"member.title": {"it": "La mia energia", "en": "My energy"}}``. A key lives in one file
only, every key has every language, and the `{placeholders}` agree between languages
(`tests/dapp/test_i18n.py` checks all three, and that every `t("…")` in the dApp names a key of the table).

`t(key, **params)` gives the text in the language picked in the sidebar (`language_picker()`; Italian by
default, as the report's users are Italian).
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = {"it": "Italiano", "en": "English"}
DEFAULT_LANGUAGE = "it"
LANGUAGE_KEY = "language"
TABLE_DIR = Path(__file__).parent


class TranslationError(ValueError):
    """The table is inconsistent (a key in two files, a missing language, placeholders that differ)."""


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@cache
def table() -> dict[str, dict[str, str]]:
    """Every key with its texts, from all the domain files; refuses an inconsistent table."""
    merged: dict[str, dict[str, str]] = {}
    owner: dict[str, str] = {}
    for path in sorted(TABLE_DIR.glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        for key, texts in entries.items():
            if key in merged:
                raise TranslationError(f"{key!r} is in both {owner[key]} and {path.name}.")
            missing = [lang for lang in LANGUAGES if not str(texts.get(lang, "")).strip()]
            if missing:
                raise TranslationError(f"{path.name}: {key!r} has no text in {', '.join(missing)}.")
            reference = placeholders(texts[DEFAULT_LANGUAGE])
            for lang in LANGUAGES:
                if placeholders(texts[lang]) != reference:
                    raise TranslationError(f"{path.name}: {key!r} has other placeholders in {lang!r}.")
            merged[key], owner[key] = texts, path.name
    return merged


def current_language() -> str:
    try:
        import streamlit as st

        language = st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    except Exception:  # outside a Streamlit run (CLI, tests without a session)
        language = DEFAULT_LANGUAGE
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, language: str | None = None, **params: Any) -> str:
    """The text of `key` in the current (or given) language, with `params` filled in."""
    texts = table()[key]
    text = texts[language or current_language()]
    return text.format(**params) if params else text


def language_picker() -> str:
    """The sidebar's language choice (kept for the session); returns the language picked."""
    import streamlit as st

    st.session_state.setdefault(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    names = list(LANGUAGES)
    st.sidebar.selectbox(
        t("common.language"),
        names,
        format_func=LANGUAGES.__getitem__,
        key=LANGUAGE_KEY,
    )
    return current_language()
