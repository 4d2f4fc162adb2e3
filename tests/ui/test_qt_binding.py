"""Guard against the Qt binding bug that crashed long sessions.

PySide6-Essentials 6.12.0 on Python 3.11 drops one reference to None on every Qt call that
returns nothing; after a few thousand calls (a map render, a busy morning of edits) Python aborts
with "none_dealloc". requirements.txt pins a release without it; this test fails if that changes.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_qt_calls_do_not_eat_references_to_none(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("退地减水")
        label.update()
    assert sys.getrefcount(None) - before > -100
