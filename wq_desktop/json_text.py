"""The JSON text the store writes for every change: history entries and sync outbox rows.

The same text as `json.dumps` with the same options (tests compare), from encoders built once:
`json.dumps` builds a new encoder on every call, and a bulk write (import, pull) encodes two
values per record. No circular-reference check: the values are plain field values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any


def _default(value: Any) -> Any:
    return json.JSONEncoder().default(value)  # raises the TypeError json.dumps raises


def _make(item_separator: str, key_separator: str, sort_keys: bool) -> Callable[[Any, int], list[str]]:
    if _encoder.c_make_encoder is None:  # an interpreter without the C accelerator
        plain = json.JSONEncoder(ensure_ascii=False, sort_keys=sort_keys, check_circular=False,
                                 separators=(item_separator, key_separator))
        return lambda value, _level: [plain.encode(value)]
    return _encoder.c_make_encoder(None, _default, _encoder.encode_basestring, None, key_separator,
                                   item_separator, sort_keys, False, True)


_CANONICAL = _make(",", ":", True)
_PLAIN = _make(", ", ": ", False)


def canonical(value: Any) -> str:
    """json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")): what the
    history's hash chain covers."""
    return "".join(_CANONICAL(value, 0))


def plain(value: Any) -> str:
    """json.dumps(value, ensure_ascii=False): an outbox row's fields."""
    return "".join(_PLAIN(value, 0))
