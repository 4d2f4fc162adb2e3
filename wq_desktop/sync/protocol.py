"""What client and server say to each other: version, headers, change and result shapes.

A change travels as JSON in wire form (store.to_wire): geometry as hex WKB, lists as lists. The
record's UUID is its identity everywhere; local row ids never leave the device.
"""

from __future__ import annotations

from typing import Any, TypedDict

# Bump when a request or answer changes shape; client and server refuse a mismatch with a message.
# 2: the base revision is the one the edit was made against (kept in the outbox); answers carry
# DIGEST_HEADER; a refused duplicate create is answered with `duplicate_of`.
# 3: a push (and a USB package) carries the laptop's accounts, and each change's author must be
# one of them; USB packages are sealed to the server's key, replies to the laptop's.
PROTOCOL_VERSION = 3
PROTOCOL_HEADER = "X-WQ-Protocol"
# SHA-256 (hex) of every JSON answer's body: a byte changed on the way is found before parsing.
DIGEST_HEADER = "X-WQ-Body-SHA256"

# Push and pull move this many changes per request: small enough that an interrupted page costs
# little, large enough that the first pull of a city is not dominated by round trips.
PUSH_PAGE = 500
PULL_PAGE = 2000

PHOTO_CHUNK = 1 << 20  # photos go up in 1 MB pieces, each acknowledged, so an upload resumes
MAX_PHOTO_BYTES = 40 * 1024 * 1024  # same limit as attaching a photo (photos.MAX_PHOTO_BYTES)

# Result statuses of a pushed change.
APPLIED = "applied"  # applied as sent, or merged with other devices' edits of other fields
CONFLICT = "conflict"  # kept both sides: the record holds the server's value, a conflict record the other
REJECTED = "rejected"  # refused by a data rule; the device keeps the change, flagged with the reason
FORBIDDEN = "forbidden"  # outside the user's township; same, with HTTP 403 as the code

# A conflict record's status values.
OPEN = "未解决"
RESOLVED = "已解决"


class Change(TypedDict):
    change_id: str
    kind: str
    record: str
    op: str  # a model.SYNCED_OPS value
    base_rev: int  # the server revision the edit was made against (0: none), fixed at edit time
    fields: dict[str, Any]
    at: str
    user: str


class Result(TypedDict, total=False):
    change_id: str
    status: str
    code: int
    reason: str | None
    rev: int | None  # the record's server revision after this change
    state: dict[str, Any] | None  # the record's full server state (fields + deleted), when readable
    conflict: str | None
    duplicate: bool  # this change id had been answered before (sent twice, applied once)
    duplicate_of: str | None  # a refused duplicate create: the record the server holds instead


class PulledChange(TypedDict):
    seq: int
    kind: str
    record: str
    op: str
    rev: int
    fields: dict[str, Any]
    user: str
    device: str
    at: str
