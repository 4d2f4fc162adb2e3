"""Every change a person makes is a named operation here: a function taking the store and plain
values, writing through the store's one write path (validation, history and the sync outbox stay
there), in one transaction, and returning a `Changes` description of what it wrote.

The window runs them through one runner (ui/operations.py), which broadcasts the description
once; each view redraws only what it names. The sync client stores each pulled page through
`sync.apply_pull`, so a sync is described the same way.
"""

from .changes import Changes, operation, recorded

__all__ = ["Changes", "operation", "recorded"]
