"""The annual workflow dashboard (plan calendar, checks, charts, water saved)."""

from .dashboard import Dashboard

__all__ = ["Dashboard"]
