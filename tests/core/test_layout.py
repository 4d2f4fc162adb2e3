"""GB/T 9704 layout measured from the PDF with poppler (pdftotext -bbox-layout): 28 characters
per 3号 line, nothing outside the 156 × 225 mm 版心, 禁则, handwritten blanks that keep their width."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from paper_village import BIG_VILLAGE, YEAR, PaperVillage, person_id

from wq_desktop import services
from wq_desktop.printing.catalog import render_document
from wq_desktop.printing.gb_text import CANNOT_END, CANNOT_START, GbParagraph, break_lines
from wq_desktop.printing.page import styles, text_block_size
from wq_desktop.store import Store

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")

MM = 72 / 25.4
XHTML = "{http://www.w3.org/1999/xhtml}"
# Placed in the margins by the standard itself: page numbers and an agreement's number on its
# later pages (so loose pages can be sorted back).
MARGIN_TEXT = re.compile(r"—\d+—|第\d+页共\d+页|协议编号：[\d-]+")


@dataclass(frozen=True)
class TextLine:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    words: list[tuple[float, float, str]]

    @property
    def text(self) -> str:
        return "".join(w for _, _, w in self.words)


def text_lines(pdf: Path) -> list[TextLine]:
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    out: list[TextLine] = []
    for n, page in enumerate(root.iter(f"{XHTML}page"), 1):
        for line in page.iter(f"{XHTML}line"):
            words = [(float(w.get("xMin")), float(w.get("xMax")), w.text or "")
                     for w in line.iter(f"{XHTML}word")]
            out.append(TextLine(n, *(float(line.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")),
                                words))
    return out


def block(landscape: bool) -> tuple[float, float, float, float]:
    if landscape:
        return 35 * MM, 28 * MM, (35 + 225) * MM, (28 + 156) * MM
    return 28 * MM, 37 * MM, (28 + 156) * MM, (37 + 225) * MM


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("layout") / "paper.sqlite"
    with Store.open(path, "测试员", create=True) as store:
        PaperVillage(store)
    return path


@pytest.fixture(scope="module")
def printed(paper: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("printed")
    with Store.open(paper, "测试员") as store:
        docs = {
            "agreement": dict(operator=person_id(0)),
            "attachment": dict(operator=person_id(1)),
            "notice": dict(village=BIG_VILLAGE),
            "summary": {},
            "contacts": dict(village=BIG_VILLAGE),
        }
        for doc, args in docs.items():
            render_document(store, doc, year=YEAR, out=out / f"{doc}.pdf", **args)
    return {doc: out / f"{doc}.pdf" for doc in docs}


LANDSCAPE = {"notice", "summary", "contacts"}


@pytest.mark.parametrize("doc", ["agreement", "attachment", "notice", "summary", "contacts"])
def test_nothing_outside_the_type_area_and_no_line_breaks_a_kinsoku_rule(printed, doc):
    left, top, right, bottom = block(doc in LANDSCAPE)
    lines = text_lines(printed[doc])
    assert len(lines) > 20
    for line in lines:
        inside = (line.x0 >= left - 0.5 and line.x1 <= right + 0.5 and line.y0 >= top - 0.5
                  and line.y1 <= bottom + 0.5)
        if MARGIN_TEXT.fullmatch(line.text):
            continue
        assert inside, (line.page, line.text, line.x1 / MM)
        # Within a line poppler splits words at spaces; each piece starts a cell or a line.
        first, last = line.words[0][2], line.words[-1][2]
        assert first[0] not in CANNOT_START, (line.page, line.text)
        assert last[-1] not in CANNOT_END, (line.page, line.text)


FULL_WIDTH = re.compile(r"^[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef《》“”]+$")


def test_body_lines_hold_28_characters_edge_to_edge(printed):
    left, _, right, _ = block(False)
    pitch = (right - left) / 28
    checked = 0
    lines = text_lines(printed["agreement"])
    for line, after in zip(lines, [*lines[1:], None], strict=True):
        height = line.y1 - line.y0
        text = line.text
        if abs(height - 16) > 0.5 or not FULL_WIDTH.match(text) or abs(line.x1 - right) > 0.5:
            continue  # not a full line of 3号 Chinese text
        indent = round((line.x0 - left) / pitch)
        assert indent in (0, 2), text
        if len(text) + indent < 28:
            # Only 禁则 may shorten a line: the next one starts with an opening mark, or with the
            # character a closing mark took down with it.
            nxt = after.text if after else ""
            assert nxt[:1] in CANNOT_END or nxt[1:2] in CANNOT_START, (text, nxt)
            assert len(text) + indent >= 26, text
        else:
            assert len(text) + indent == 28, text
            checked += 1
    assert checked >= 5


def test_28_characters_fit_a_line_of_the_type_area_and_29_do_not():
    width, _ = text_block_size()
    body = styles()["body_noindent"]
    assert [len(line.text) for line in break_lines("退" * 28, body, width)] == [28]
    assert [len(line.text) for line in break_lines("退" * 29, body, width)] == [28, 1]


def test_closing_mark_takes_the_character_before_it_to_the_next_line():
    width, _ = text_block_size()
    body = styles()["body_noindent"]
    lines = break_lines("退" * 28 + "）。后文", body, width)
    assert [line.text for line in lines] == ["退" * 27, "退）。后文"]
    assert lines[0].char_space > lines[1].char_space  # justified: the slack goes between glyphs
    lines = break_lines("退" * 27 + "《地下水管理条例》", body, width)
    assert lines[0].text == "退" * 27 and lines[1].text.startswith("《")


def test_handwritten_blanks_keep_their_width(paper, tmp_path):
    with Store.open(paper, "测试员") as store:
        # An agreement not signed yet: its dates are blanks to fill in by hand.
        op = store.find_one("operator", "name='农户001'")
        agreement = store.find_one("agreement", "operator=?", (op["uuid"],))
        store.delete("agreement", agreement["uuid"])
        services.start_agreement(store, op["uuid"], YEAR, date(YEAR, 7, 1))
        pdf = tmp_path / "unsigned.pdf"
        render_document(store, "agreement", year=YEAR, operator=op["id_code"], out=pdf)
    words = sorted(((line.page, round(line.y0), x0, x1, w) for line in text_lines(pdf)
                    for x0, x1, w in line.words), key=lambda t: t[:3])
    dates = [i for i, w in enumerate(words) if w[4] == "日期："]
    assert len(dates) == 3
    for i in dates:
        row = [w for w in words[i + 1:i + 4] if w[:2] == words[i][:2]]
        assert [w[4] for w in row] == ["年", "月", "日"]
        # "日期：　　　　年　　月　　日": 4, 2 and 2 full-width spaces of 12 pt stay on paper.
        gaps = [b[2] - a[3] for a, b in zip([words[i], *row], row, strict=False)]
        assert gaps[0] >= 4 * 12 - 0.5 and gaps[1] >= 2 * 12 - 0.5 and gaps[2] >= 2 * 12 - 0.5
    assert isinstance(GbParagraph("　", styles()["body"]), GbParagraph)
