"""Every record kind the schema declares has a township scope on the server, found through its
references: a new kind cannot be added without one (the server would answer 500 to every push)."""

from __future__ import annotations

import pytest

from wq_desktop.schema import KINDS
from wq_server.scope import ANY_KIND_REF, scope_field


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_reaches_the_township_through_its_references(name: str) -> None:
    seen = []
    while name != "township":
        assert name not in seen, f"scope cycle: {seen}"
        seen.append(name)
        field = scope_field(name)
        assert field in KINDS[name].field_names
        if name in ANY_KIND_REF:
            return  # the owner's own scope, whatever its kind
        name = KINDS[name].field(field).ref
    assert scope_field("township") is None
