"""JSON parsing that refuses absurd nesting before the C decoder recurses into it.

The decoder raises RecursionError on deep nesting only while the interpreter's recursion limit is low; a
process that raised the limit can overflow the C stack instead. Readings are at most three levels deep.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class TooDeep(ValueError):
    pass


def nesting_depth(data: bytes) -> int:
    """Deepest bracket nesting outside string literals."""
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return data.count(b"[") + data.count(b"{")
    depth = deepest = 0
    for byte in _STRINGS.sub(b'""', data):
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def loads(data: bytes) -> Any:
    """`json.loads`, refusing documents nested deeper than :data:`MAX_DEPTH` with :class:`TooDeep`."""
    if nesting_depth(data) > MAX_DEPTH:
        raise TooDeep(f"The JSON is nested deeper than {MAX_DEPTH} levels; readings are at most 3 levels deep.")
    return json.loads(data)
