"""A TOML writer for Besu's flat config files (strings, integers, booleans and lists of strings).

The standard library reads TOML (`tomllib`) but does not write it; Besu's files need nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping


def _string(text: str) -> str:
    """A TOML basic string: quote and backslash escaped, control characters as \\uXXXX, the rest as is."""
    escaped = "".join(
        "\\" + c if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text
    )
    return f'"{escaped}"'


def _value(value: object) -> str:
    # bool before int: True is an int in Python but `true` in TOML.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + "".join(f"  {_value(item)},\n" for item in value) + "]"
    raise TypeError(f"Cannot write {type(value).__name__} to a Besu TOML file.")


def dumps(values: Mapping[str, object], comments: Mapping[str, str] | None = None) -> str:
    """`key=value` lines in the given order; `comments[key]` goes on the line above that key."""
    lines = []
    for key, value in values.items():
        if comments and key in comments:
            lines.append(f"# {comments[key]}")
        lines.append(f"{key}={_value(value)}")
    return "\n".join(lines) + "\n"
