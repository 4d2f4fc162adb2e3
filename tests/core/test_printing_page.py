"""GB/T 9704 page, Chinese fonts and glyph checks, verified on real PDFs with poppler-utils."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Table

from wq_desktop import resources
from wq_desktop.errors import ValidationError, WqError
from wq_desktop.printing import (
    CHAR,
    NoChineseFontError,
    build_pdf,
    check_printable,
    font_for,
    format_cn_date,
    geometry,
    missing_glyphs,
    para,
    register_fonts,
    signature_block,
    styles,
    table_style,
    text_block_size,
)
from wq_desktop.printing import fonts as fonts_mod

POPPLER = all(shutil.which(t) for t in ("pdffonts", "pdftotext", "pdftoppm", "pdfinfo"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")

RARE = "\U00020bb7"  # 𠮷 (CJK Ext. B), absent from SimSun, UMing, WenQuanYi
BODY = "根据《昌吉市2026年退地减水工作实施方案》，经入户核实、村两委审核，现予公示。"
PHRASE = "退减灌溉面积"


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def _three_page_story() -> list:
    st = styles()
    return [
        para("昌吉市××镇××村2026年度退减灌溉面积及农户名单公示", st["title"]),
        para(BODY, st["body"]),
        para(PHRASE, st["heading1"]),
        PageBreak(),
        para("第二页正文：张三 昌吉市", st["body"]),
        PageBreak(),
        Table(
            [["序号", "户主姓名", "退减灌溉面积(亩)"], ["1", para("张三", st["table"]), "12.50"]],
            style=table_style(),
        ),
        *signature_block("××村民委员会", dt.date(2026, 3, 1)),
    ]


def _build(path: Path, **kw) -> int:
    kw.setdefault("title", "测试公示")
    return build_pdf(path, _three_page_story(), **kw)


def _text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return _run(*args, str(pdf), "-")


def _dash_words(pdf: Path) -> list[tuple[float, list[tuple[float, float]]]]:
    """Per page: (page width, [(xMin, xMax) of each '—' word])."""
    out = _run("pdftotext", "-bbox", str(pdf), "-")
    pages = []
    for chunk in out.split("<page ")[1:]:
        width = float(re.search(r'width="([\d.]+)"', chunk).group(1))
        xs = [
            (float(a), float(b))
            for a, b in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>—</word>', chunk
            )
        ]
        pages.append((width, xs))
    return pages


def _uncovered_char() -> str:
    """A character neither the song font nor the HanaMinB fallback has (𠮷 prints through it)."""
    for ch in (RARE, "\U0003134a", "\U0010fffd"):
        if fonts_mod.unprintable_chars(ch, "song"):
            return ch
    pytest.skip("song font covers every probe character")


@pytest.fixture(scope="module")
def demo_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("pdf") / "demo.pdf"
    return path, _build(path, demo=True, author="测试")


# --- fonts ---------------------------------------------------------------------------


def test_register_fonts_is_idempotent_and_covers_roles() -> None:
    first = register_fonts()
    assert set(first) == {"song", "fangsong", "hei", "kai"}
    assert register_fonts() == first
    assert font_for("hei") == first["hei"]
    with pytest.raises(ValueError):
        font_for("songti")  # type: ignore[arg-type]


def test_missing_glyphs() -> None:
    for role in ("song", "fangsong", "hei", "kai"):
        assert missing_glyphs("张三 昌吉市\t\n", role) == set()
    cmap = fonts_mod.pdfmetrics.getFont(font_for("song")).face.charToGlyph
    expected = set() if ord(RARE) in cmap else {RARE}
    assert missing_glyphs(f"吉{RARE}祥", "song") == expected


def test_check_printable_names_character_and_text() -> None:
    ch = _uncovered_char()
    check_printable(["张三", "昌吉市大西渠镇", ""])  # no error
    with pytest.raises(ValidationError) as err:
        check_printable(["张三", f"吉{ch}祥", f"王{ch}"])
    msg = str(err.value)
    assert msg.startswith("以下字符当前字体无法显示，打印前请处理：")
    assert f"（吉{ch}祥、王{ch}）" in msg
    assert "张三" not in msg


def test_invisible_character_is_named_by_code_point() -> None:
    if not missing_glyphs("\u200b", "song"):
        pytest.skip("font has a zero-width-space glyph")
    with pytest.raises(ValidationError, match="U\\+200B"):
        check_printable(["张\u200b三"])


def test_cff_and_broken_fonts_are_skipped(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font at all" * 10)
    assert fonts_mod._load(fonts_mod.FontCandidate(bogus)) is None
    cff = sorted(Path("/usr/share/fonts/opentype").rglob("*.otf"))
    if cff:  # a real CFF OpenType font: reportlab refuses it, we must skip it quietly
        assert fonts_mod._load(fonts_mod.FontCandidate(cff[0])) is None
    # A TrueType font without Chinese (DejaVu) is not accepted either.
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if dejavu.exists():
        assert fonts_mod._load(fonts_mod.FontCandidate(dejavu)) is None


def test_no_chinese_font_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts_mod, "_chosen", None)
    monkeypatch.setattr(fonts_mod, "candidates", lambda role: iter(()))
    with pytest.raises(NoChineseFontError) as err:
        register_fonts()
    assert isinstance(err.value, WqError)
    assert "apt-get install fonts-arphic-uming fonts-wqy-zenhei" in str(err.value)
    assert "宋体" in str(err.value)


def test_resource_path_checkout_and_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert resources.resource_path("fonts", "README.md") == repo / "resources" / "fonts" / "README.md"
    assert resources.resource_path("fonts", "README.md").is_file()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_path("fonts") == tmp_path / "resources" / "fonts"


# --- page -------------------------------------------------------------------------------


def test_geometry_and_dates() -> None:
    w, h = text_block_size(False)
    assert (round(w / mm, 3), round(h / mm, 3)) == (156, 225)
    lw, lh = text_block_size(True)
    assert (round(lw / mm, 3), round(lh / mm, 3)) == (225, 156)
    g = geometry(False)
    assert [round(v / mm, 3) for v in (g.top, g.left, g.bottom, g.right)] == [37, 28, 35, 26]
    assert format_cn_date(dt.date(2026, 3, 1)) == "2026年3月1日"
    assert format_cn_date(dt.datetime(2025, 12, 15, 9, 30)) == "2025年12月15日"


def test_styles() -> None:
    st = styles()
    assert st["title"].fontSize == 22 and st["title"].fontName == font_for("hei")
    assert st["body"].fontSize == 16 and st["body"].fontName == font_for("fangsong")
    assert st["body"].firstLineIndent == 2 * CHAR and 28 <= st["body"].leading <= 29
    assert 10.5 <= st["table"].fontSize <= 12 and st["table"].fontName == font_for("song")
    assert st["date"].rightIndent == 4 * CHAR
    assert all(s.wordWrap == "CJK" for s in st.values())


@needs_poppler
def test_fonts_embedded_and_metadata(demo_pdf: tuple[Path, int]) -> None:
    path, pages = demo_pdf
    assert pages == 3
    lines = _run("pdffonts", str(path)).splitlines()[2:]
    assert lines, "no fonts listed"
    for line in lines:
        assert line.split()[-5] == "yes", f"font not embedded: {line}"
    info = _run("pdfinfo", str(path))
    assert re.search(r"^Title:\s+测试公示$", info, re.M)
    assert re.search(r"^Author:\s+测试$", info, re.M)
    assert re.search(r"^Pages:\s+3$", info, re.M)


@needs_poppler
def test_text_page_numbers_and_watermark(demo_pdf: tuple[Path, int]) -> None:
    path, _ = demo_pdf
    text = _text(path)
    for n in (1, 2, 3):
        assert f"— {n} —" in text
    assert PHRASE in text and "张三 昌吉市" in text and "2026年3月1日" in text
    assert "第1页" not in text  # gbt9704 style only
    for page in (1, 2, 3):
        assert "演示数据" in _text(path, page)


@needs_poppler
def test_no_watermark_without_demo(tmp_path: Path) -> None:
    path = tmp_path / "real.pdf"
    _build(path)
    assert "演示数据" not in _text(path)


@needs_poppler
def test_page_number_position_odd_right_even_left(demo_pdf: tuple[Path, int]) -> None:
    path, _ = demo_pdf
    pages = _dash_words(path)
    g = geometry(False)
    (_, d1), (_, d2) = pages[0], pages[1]
    assert len(d1) == 2 and len(d2) == 2  # "— N —" has two dashes
    assert d1[0][0] > d2[0][0] + 200  # odd right, even left
    # Odd: right end one 字 inside the text block; even: left end one 字 inside.
    assert d1[-1][1] == pytest.approx(g.left + g.block_width - CHAR, abs=1)
    assert d2[0][0] == pytest.approx(g.left + CHAR, abs=1)


@needs_poppler
def test_of_total_and_both(tmp_path: Path) -> None:
    path = tmp_path / "total.pdf"
    assert _build(path, page_numbers="of_total") == 3
    text = _text(path)
    assert "第1页 共3页" in text and "第3页 共3页" in text
    assert "— 1 —" not in text
    both = tmp_path / "both.pdf"
    _build(both, page_numbers="both")
    text = _text(both)
    assert "第2页 共3页" in text and "— 2 —" in text


@needs_poppler
def test_blank_page_gets_no_number(tmp_path: Path) -> None:
    st = styles()
    path = tmp_path / "blank.pdf"
    story = [para(BODY, st["body"]), PageBreak(), PageBreak(), para(PHRASE, st["body"])]
    assert build_pdf(path, story, title="空白页", page_numbers="both") == 3
    text = _text(path)
    assert "— 1 —" in text and "— 3 —" in text and "第3页 共3页" in text
    assert "— 2 —" not in text and "第2页" not in text


@needs_poppler
def test_landscape_page(tmp_path: Path) -> None:
    path = tmp_path / "land.pdf"
    buf = io.BytesIO()
    assert build_pdf(buf, _three_page_story(), title="横向", landscape=True) == 3
    path.write_bytes(buf.getvalue())
    assert re.search(r"Page size:\s+841\.89 x 595\.2", _run("pdfinfo", str(path)))
    width, dashes = _dash_words(path)[0]
    g = geometry(True)
    assert width == pytest.approx(g.width, abs=0.1)
    assert dashes[-1][1] == pytest.approx(g.left + g.block_width - CHAR, abs=1)


def test_build_refuses_uncovered_characters(tmp_path: Path) -> None:
    ch = _uncovered_char()
    st = styles()
    path = tmp_path / "refused.pdf"
    story = [para(f"户主：吉{ch}祥", st["body"]), Table([[f"王{ch}"]], style=table_style(header_rows=0))]
    with pytest.raises(ValidationError) as err:
        build_pdf(path, story, title="x")
    assert f"{ch}（户主：吉{ch}祥、王{ch}）" in str(err.value)
    assert not path.exists()


@needs_poppler
def test_page_one_renders(demo_pdf: tuple[Path, int], tmp_path: Path) -> None:
    path, _ = demo_pdf
    _run("pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p"))
    png = next(tmp_path.glob("p*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
