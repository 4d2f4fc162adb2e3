"""Orders staff expect in every list, table and document: groups counted as numbers."""

from __future__ import annotations

import re

_CN_DIGITS = "零一二三四五六七八九十"


def group_sort_key(name: str) -> tuple[int, str]:
    """一组, 二组 … 十一组 in counting order, not code-point order."""
    head = re.match(r"([一二三四五六七八九十]+|\d+)", name)
    if not head:
        return (10**6, name)
    token = head.group(1)
    if token.isdigit():
        return (int(token), name)
    if "十" in token:
        tens, _, ones = token.partition("十")
        try:
            value = (_CN_DIGITS.index(tens) if tens else 1) * 10 + (_CN_DIGITS.index(ones) if ones else 0)
        except ValueError:
            return (10**6, name)
        return (value, name)
    return (_CN_DIGITS.index(token[0]) if len(token) == 1 else 10**6, name)
