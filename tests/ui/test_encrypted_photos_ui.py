"""A patrol's photos show as thumbnails from an encrypted store, whose photo files are encrypted."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import TEST_PASSWORD
from wq_desktop import encrypt_store, keyfile, photos
from wq_desktop.store import Store


def test_stored_photos_of_an_encrypted_store_show_as_thumbnails(qtbot, demo_store: Store,
                                                               tmp_path: Path) -> None:
    from ui.views.patrol import PhotoStrip
    from ui.widgets import ErrorLabel

    path, record = demo_store.path, demo_store.find("photo")[0]
    demo_store.close()
    done = encrypt_store.encrypt(path, "测试员", TEST_PASSWORD)
    try:
        assert photos.photo_path(done.store, record["sha256"]).read_bytes()[:8] == b"WQPHOTO1"
        error = ErrorLabel()
        strip = PhotoStrip(error)
        qtbot.addWidget(strip)
        strip.add_stored(done.store, record)
        icon = strip.item(0).icon()
        assert not icon.isNull()
        image = icon.pixmap(128, 128).toImage()
        assert image.width() == 128  # the 320×240 demo photo, scaled to the thumbnail
        with pytest.raises(Image.UnidentifiedImageError):  # the file on disk is no image
            Image.open(photos.photo_path(done.store, record["sha256"]))
    finally:
        done.store.close()
        keyfile.forget(path)
