"""Read-only queries, one module per screen: navigation, search, household, village, contacts,
rectifications, change log.

Plain values in, plain dataclasses out, so Qt models only wrap them. Nothing in this package writes.
"""
