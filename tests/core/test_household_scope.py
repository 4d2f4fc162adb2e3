"""One definition of what belongs to a household, placed against every kind of the schema."""

from __future__ import annotations

from wq_desktop.household_scope import BELONGS, NOT_OF_A_HOUSEHOLD, OPERATOR
from wq_desktop.schema import KINDS


def test_every_kind_either_belongs_to_a_household_or_says_why_not() -> None:
    placed = [OPERATOR, *BELONGS, *NOT_OF_A_HOUSEHOLD]
    assert sorted(placed) == sorted(KINDS), "a kind is missing, unknown or placed twice"
    assert all(reason.strip() for reason in NOT_OF_A_HOUSEHOLD.values())


def test_each_link_is_a_reference_of_the_schema() -> None:
    order = [OPERATOR, *BELONGS]
    for kind_name, link in BELONGS.items():
        field = KINDS[kind_name].field(link.field)
        if link.owner_kind is None:
            assert field.ref == link.parent, (kind_name, link)
        else:  # a reference to a record of any kind, named by the owner_kind field
            assert KINDS[kind_name].field("owner_kind") and link.owner_kind == link.parent
        assert order.index(link.parent) < order.index(kind_name), "parents come before children"


def test_a_kind_that_refers_to_household_records_belongs_to_the_household() -> None:
    """Deleting a household takes every live record referring to its records (the store's
    cascade); a kind doing so must be counted, shown in the history and restored with it."""
    household_kinds = {OPERATOR, *BELONGS}
    for k in KINDS.values():
        if k.name in household_kinds:
            continue
        refs = {f.name: f.ref for f in k.fields if f.ref in household_kinds}
        assert not refs, f"{k.name} refers to household records ({refs}) but is not in BELONGS"
