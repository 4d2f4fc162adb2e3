"""wq-desktop core: domain, store, geometry, printing and sync client. Never imports Qt."""

__version__ = "0.1.0"
