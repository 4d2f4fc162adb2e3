"""The central server: one SQLite store for the whole city, per-township access, sync endpoints."""
