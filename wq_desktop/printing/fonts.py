"""Chinese fonts for reportlab: find, register once, and check glyph coverage.

reportlab can only embed TrueType-outline fonts (TTF/TTC with a ``glyf`` table). CFF-based
OpenType fonts (most .otf, Noto CJK) raise ``TTFError`` when loaded; they are skipped, as are
unreadable files, so one broken font never stops printing while another one works.

Rare characters (CJK Extension B–F, e.g. the 𠮷 of a household's name) are in none of the
usual faces; HanaMinB of the free Hanazono fonts has them and is the *fallback* for every role:
``fallback_runs`` puts each character the role's font lacks into HanaMinB, so it prints
instead of stopping the whole document.

Each *role* maps to one reportlab font name. The search order per role is: Windows system
fonts, then ``resources/fonts`` (licensed fonts an installer may ship), then the usual Linux
font files, then whatever ``fc-list`` reports for Chinese.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase import ttfonts as _ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from wq_desktop.errors import ValidationError, WqError
from wq_desktop.font_files import fallback_font_path, windows_font_dirs
from wq_desktop.resources import resource_path

log = logging.getLogger(__name__)

Role = Literal["song", "fangsong", "hei", "kai"]
ROLES: tuple[Role, ...] = get_args(Role)

# A font is accepted only if it has all of these: the page-number dash and digits must not
# come out as boxes (DroidSansFallback, for one, lacks the em dash).
_PROBE = "中文昌吉市退地减水协议公示第页共—0123456789"

# Windows file names per role, best first. simsun.ttc index 0 is 宋体 (index 1 is 新宋体).
_WINDOWS_FILES: dict[Role, tuple[tuple[str, int], ...]] = {
    "song": (("simsun.ttc", 0), ("simfang.ttf", 0)),
    "fangsong": (("simfang.ttf", 0), ("simsun.ttc", 0)),
    "hei": (("simhei.ttf", 0), ("msyh.ttc", 0), ("simsun.ttc", 0)),
    "kai": (("simkai.ttf", 0), ("simfang.ttf", 0), ("simsun.ttc", 0)),
}

# Freely redistributable faces (see resources/fonts/README.md), best first per role.
# AR PL UMing is a Ming (= Song) face, the closest free stand-in for 宋体/仿宋.
_FREE_FILES: dict[Role, tuple[tuple[str, int], ...]] = {
    "song": (("uming.ttc", 0), ("wqy-zenhei.ttc", 0), ("wqy-microhei.ttc", 0)),
    "fangsong": (
        ("uming.ttc", 0),
        ("ukai.ttc", 0),
        ("wqy-zenhei.ttc", 0),
        ("wqy-microhei.ttc", 0),
    ),
    "hei": (("wqy-zenhei.ttc", 0), ("wqy-microhei.ttc", 0), ("uming.ttc", 0)),
    "kai": (
        ("ukai.ttc", 0),
        ("uming.ttc", 0),
        ("wqy-zenhei.ttc", 0),
        ("wqy-microhei.ttc", 0),
    ),
}

# Where Debian/Ubuntu (first) and Fedora put the free fonts above.
_LINUX_DIRS: dict[str, tuple[str, ...]] = {
    "uming.ttc": ("/usr/share/fonts/truetype/arphic", "/usr/share/fonts/cjkuni-uming"),
    "ukai.ttc": ("/usr/share/fonts/truetype/arphic", "/usr/share/fonts/cjkuni-ukai"),
    "wqy-zenhei.ttc": ("/usr/share/fonts/truetype/wqy", "/usr/share/fonts/wqy-zenhei"),
    "wqy-microhei.ttc": (
        "/usr/share/fonts/truetype/wqy",
        "/usr/share/fonts/wqy-microhei",
    ),
}

# fc-list family keywords per role, used only to order the last-resort candidates.
_FC_KEYWORDS: dict[Role, tuple[str, ...]] = {
    "song": ("song", "宋", "ming", "明", "serif"),
    "fangsong": ("fangsong", "仿宋", "song", "宋", "ming", "明", "serif"),
    "hei": ("hei", "黑", "sans"),
    "kai": ("kai", "楷"),
}

_INSTALL_HINT = (
    "Windows：系统自带宋体、仿宋（C:\\Windows\\Fonts 下的 simsun.ttc、simfang.ttf），请确认未被删除；"
    "Linux：请执行 sudo apt-get install fonts-arphic-uming fonts-wqy-zenhei 后重新打开程序。"
)


class NoChineseFontError(WqError):
    """No usable (embeddable TrueType) Chinese font was found for one or more roles."""

    def __init__(self, roles: Iterable[str]) -> None:
        names = {"song": "宋体", "fangsong": "仿宋", "hei": "黑体", "kai": "楷体"}
        wanted = "、".join(names.get(r, r) for r in roles)
        super().__init__(f"未找到可用的中文字体（{wanted}），无法生成打印文件。{_INSTALL_HINT}")


@dataclass(frozen=True)
class FontCandidate:
    path: Path
    subfont_index: int = 0


@dataclass(frozen=True)
class ChosenFont:
    """The font serving a role; ``face_name`` is the font's PostScript name (for diagnostics)."""

    role: Role
    name: str
    path: Path
    subfont_index: int
    face_name: str


_lock = threading.RLock()
_chosen: dict[Role, ChosenFont] | None = None
# (resolved path, index) -> registered TTFont, or None if it failed; avoids re-parsing big
# TTC files for every role and re-trying broken ones.
_loaded: dict[tuple[str, int], TTFont | None] = {}


def _fc_list_candidates(role: Role) -> list[FontCandidate]:
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh", "-f", "%{file}\t%{index}\t%{family}\n"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    keywords = _FC_KEYWORDS[role]
    ranked: list[tuple[int, str, FontCandidate]] = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].lower().endswith((".ttf", ".ttc")):
            continue  # .otf here is almost always CFF, which reportlab cannot embed
        try:
            index = int(parts[1])
        except ValueError:
            index = 0
        family = parts[2].lower()
        rank = next((i for i, k in enumerate(keywords) if k in family), len(keywords))
        ranked.append((rank, line, FontCandidate(Path(parts[0]), index)))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [c for _, _, c in ranked]


def candidates(role: Role) -> Iterator[FontCandidate]:
    """Font files to try for ``role``, best first (files may not exist)."""
    if role not in ROLES:
        raise ValueError(f"unknown font role {role!r}")
    for d in windows_font_dirs():
        for name, index in _WINDOWS_FILES[role]:
            yield FontCandidate(d / name, index)

    bundled = resource_path("fonts")
    # A site that owns a licence may drop e.g. fangsong.ttf there to pin a role.
    for ext in (".ttf", ".ttc"):
        yield FontCandidate(bundled / f"{role}{ext}")
    for name, index in (*_FREE_FILES[role], *_WINDOWS_FILES[role]):
        yield FontCandidate(bundled / name, index)
    if bundled.is_dir():
        for p in sorted(bundled.iterdir()):
            if p.suffix.lower() in (".ttf", ".ttc"):
                yield FontCandidate(p)

    for name, index in _FREE_FILES[role]:
        for d in _LINUX_DIRS[name]:
            yield FontCandidate(Path(d) / name, index)

    yield from _fc_list_candidates(role)


def _load(cand: FontCandidate) -> TTFont | None:
    """Load and register ``cand``; None if missing, not embeddable or not Chinese."""
    if not cand.path.is_file():
        return None
    key = (str(cand.path.resolve()), cand.subfont_index)
    if key in _loaded:
        return _loaded[key]
    stem = re.sub(r"[^A-Za-z0-9]", "", cand.path.stem) or "font"
    name = f"Wq-{stem}-{cand.subfont_index}"
    n = 1
    while name in pdfmetrics.getRegisteredFontNames():
        n += 1
        name = f"Wq-{stem}-{cand.subfont_index}-{n}"
    font: TTFont | None
    try:
        font = TTFont(name, key[0], subfontIndex=cand.subfont_index)
    except Exception as exc:  # broad on purpose: reportlab raises TTFError, struct.error… on odd files
        log.info("skip font %s#%d: %s", cand.path, cand.subfont_index, exc)
        font = None
    if font is not None:
        cmap = font.face.charToGlyph
        if any(ord(ch) not in cmap for ch in _PROBE):
            log.info(
                "skip font %s#%d: lacks basic Chinese glyphs",
                cand.path,
                cand.subfont_index,
            )
            font = None
        else:
            pdfmetrics.registerFont(font)
            # Without a family, <b>/<i> markup in a Paragraph raises; map them to the same face.
            pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    _loaded[key] = font
    return font


def _face_name(font: TTFont) -> str:
    raw = font.face.name
    return raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)


def chosen_fonts() -> dict[Role, ChosenFont]:
    """Which file serves each role (registers on first call). Raises NoChineseFontError."""
    global _chosen
    with _lock:
        if _chosen is not None:
            return dict(_chosen)
        found: dict[Role, ChosenFont] = {}
        for role in ROLES:
            for cand in candidates(role):
                font = _load(cand)
                if font is not None:
                    found[role] = ChosenFont(
                        role,
                        font.fontName,
                        cand.path,
                        cand.subfont_index,
                        _face_name(font),
                    )
                    break
        missing = [r for r in ROLES if r not in found]
        if missing:
            # Not cached: after the user installs fonts a retry in the same session works.
            raise NoChineseFontError(missing)
        _chosen = found
        log.info("fonts: %s", {r: f"{c.face_name} ({c.path})" for r, c in found.items()})
        return dict(found)


def register_fonts() -> dict[Role, str]:
    """Register the Chinese fonts with reportlab (idempotent); role -> reportlab font name."""
    return {role: c.name for role, c in chosen_fonts().items()}


def font_for(role: Role) -> str:
    """reportlab font name for ``role`` ("song", "fangsong", "hei", "kai")."""
    if role not in ROLES:
        raise ValueError(f"unknown font role {role!r}")
    return register_fonts()[role]


# --- the fallback for rare characters ------------------------------------------------------

_fallback: TTFont | bool | None = False  # False: not looked for yet


def fallback_font() -> TTFont | None:
    """The registered fallback font, or None when HanaMinB is not installed (then rare characters
    are reported by check_printable as before)."""
    global _fallback
    with _lock:
        if _fallback is False:
            path = fallback_font_path()
            font: TTFont | None = None
            if path is not None:
                try:
                    font = TTFont("Wq-HanaMinB", str(path))
                    pdfmetrics.registerFont(font)
                    pdfmetrics.registerFontFamily(font.fontName, normal=font.fontName, bold=font.fontName,
                                                  italic=font.fontName, boldItalic=font.fontName)
                except Exception as exc:  # a damaged file must not stop printing
                    log.info("skip fallback font %s: %s", path, exc)
                    font = None
            _fallback = font
        return _fallback or None


def _utf16_hex(code: int) -> str:
    """A code point as the UTF-16BE hex a ToUnicode CMap wants (a surrogate pair above U+FFFF)."""
    return chr(code).encode("utf-16-be").hex().upper()


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with characters above U+FFFF written as surrogate pairs.

    reportlab 4–5 writes them as "<20BB7>", which readers take as U+20BB: the PDF would show 𠮷
    but copy and search (pdftotext, an auditor's Ctrl+F) would read ₻."""
    lines = [
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def", "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>", "endcodespacerange", f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{_utf16_hex(v)}>" for i, v in enumerate(subset)),
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ]
    return "\n".join(lines)


_ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # looked up by name when a subset is written


def _has(font_name: str, ch: str) -> bool:
    font = pdfmetrics.getFont(font_name)
    return isinstance(font, TTFont) and ord(ch) in font.face.charToGlyph


def fallback_runs(text: str, font_name: str) -> list[tuple[str, str]]:
    """``text`` as (font name, run) pieces: every run of characters that ``font_name`` lacks and
    the fallback font has goes in the fallback font, the rest in ``font_name``."""
    fallback = fallback_font()
    if fallback is None or all(ord(ch) < 0x2E80 for ch in text):  # ASCII, Latin: never rare
        return [(font_name, text)] if text else []
    runs: list[tuple[str, str]] = []
    for ch in text:
        rare = _needs_glyph(ch) and not _has(font_name, ch) and ord(ch) in fallback.face.charToGlyph
        name = fallback.fontName if rare else font_name
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + ch)
        else:
            runs.append((name, ch))
    return runs


def unprintable_chars(text: str, role: Role = "song") -> list[str]:
    """Characters of ``text`` that neither the ``role`` font nor the fallback can print, each
    once in order: what the forms flag as the name is typed."""
    font_name = font_for(role)
    fallback = fallback_font()
    out: list[str] = []
    for ch in text or "":
        if (_needs_glyph(ch) and ch not in out and not _has(font_name, ch)
                and not (fallback is not None and ord(ch) in fallback.face.charToGlyph)):
            out.append(ch)
    return out


# Put in a printed list for a character no font has (the "geta" mark typesetters use for a missing
# character), so one household's name never stops the notice of the whole village.
MISSING_MARK = "〓"


def substitute_unprintable(text: str, role: Role = "song") -> tuple[str, list[str]]:
    """``text`` with each character no font can print replaced by MISSING_MARK, and those
    characters; the text is unchanged when everything prints (𠮷 does, through HanaMinB)."""
    missing = unprintable_chars(text, role)
    if not missing:
        return text, []
    return "".join(MISSING_MARK if ch in missing else ch for ch in text), missing


def _needs_glyph(ch: str) -> bool:
    # Whitespace and control characters are layout, not glyphs.
    return not ch.isspace() and unicodedata.category(ch) != "Cc"


def missing_in_font(text: str, font_name: str) -> set[str]:
    """Characters of ``text`` that the registered reportlab font ``font_name`` cannot draw."""
    font = pdfmetrics.getFont(font_name)
    if isinstance(font, TTFont):
        cmap = font.face.charToGlyph
        return {ch for ch in text if _needs_glyph(ch) and ord(ch) not in cmap}
    # Standard Type 1 fonts (Helvetica…) are WinAnsi-encoded: anything outside cp1252 is a box.
    missing: set[str] = set()
    for ch in text:
        if _needs_glyph(ch):
            try:
                ch.encode("cp1252")
            except UnicodeEncodeError:
                missing.add(ch)
    return missing


def missing_glyphs(text: str, role: Role = "song") -> set[str]:
    """Characters of ``text`` the font chosen for ``role`` has no glyph for (e.g. 𠮷)."""
    return missing_in_font(text, font_for(role))


def _show(ch: str) -> str:
    # Invisible or unassigned characters (zero-width space pasted from Word…) would read
    # as nothing in the message; name them by code point instead.
    return f"U+{ord(ch):04X}" if unicodedata.category(ch)[0] in "CZ" else ch


def format_missing(occurrences: dict[str, list[str]]) -> str:
    """The user message for uncovered characters; ``occurrences``: char -> texts containing it."""
    items = []
    for ch, texts in occurrences.items():
        shown = "、".join(texts[:3]) + (f"等{len(texts)}处" if len(texts) > 3 else "")
        items.append(f"{_show(ch)}（{shown}）")
    return "以下字符当前字体无法显示，打印前请处理：" + "；".join(items)


def check_printable(texts: Iterable[str], role: Role = "song") -> None:
    """Raise ValidationError naming every character the ``role`` font cannot print.

    Call before printing names/addresses from the database, so a rare character such as 𠮷
    is fixed (or handled by the user) instead of being printed as an empty box.
    """
    occurrences: dict[str, list[str]] = {}  # insertion order = order of first appearance
    for text in texts:
        if not text:
            continue
        missing = missing_glyphs(text, role)
        for ch in dict.fromkeys(c for c in text if c in missing):
            bucket = occurrences.setdefault(ch, [])
            if text not in bucket:
                bucket.append(text)
    if occurrences:
        raise ValidationError(format_missing(occurrences))
