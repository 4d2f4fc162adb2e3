"""The notice names the place of the seal and the township's 监督电话 (a setting of the data file)."""

from __future__ import annotations

import re
import subprocess

import pytest

from wq_desktop.demo import demo_year
from wq_desktop.errors import ValidationError
from wq_desktop.printing.catalog import render_document
from wq_desktop.printing.notice import set_supervision_phone, supervision_phone


def notice_text(store, tmp_path, mode: str = "-raw") -> str:
    village = store.find("village", order_by="code")[0]["code"]
    pdf = tmp_path / "notice.pdf"
    render_document(store, "notice", year=demo_year(), village=village, out=pdf)
    out = subprocess.run(["pdftotext", mode, str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    return re.sub(r"[ \t]", "", out) if mode == "-raw" else out


def test_notice_has_the_seal_and_the_supervision_phone(demo_store, tmp_path):
    with pytest.raises(ValidationError, match="无效"):
        set_supervision_phone(demo_store, "电话12")
    assert supervision_phone(demo_store) == ""
    assert "村民委员会（盖章）" in notice_text(demo_store, tmp_path)
    # Without a number, a blank of eight characters to fill in by hand.
    assert re.search(r"监督电话：\s{8,}（六工镇人民政府）", notice_text(demo_store, tmp_path, "-layout"))
    set_supervision_phone(demo_store, " 0994-2345678 ")
    assert "监督电话：0994-2345678（六工镇人民政府）" in notice_text(demo_store, tmp_path)
