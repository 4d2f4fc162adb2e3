"""Chinese line setting the way GB/T 9704 and offices expect it, as a platypus flowable.

reportlab's CJK wrapping lets a closing mark hang past the right edge, may end a line with an
opening mark, leaves Chinese lines ragged (it justifies only at spaces) and collapses runs of
spaces, so a handwritten blank (`　　年　　月　　日`) shrank to 2 mm. `GbParagraph` sets plain text
instead:

- 3号 body text sits on the standard's grid: 28 characters per line of the 156 mm 版心, by
  character spacing (16 pt glyphs are 0.2 pt too wide for 28 in 156 mm);
- 禁则: no line starts with a closing mark (，。、；：？！）》” …) or ends with an opening one
  (（《“ …); the character before a closing mark goes down with it rather than anything hanging out;
- justified lines end exactly at the right edge (the slack goes between characters);
- digits and Latin words are not split; spaces keep their width.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from wq_desktop.printing.fonts import fallback_runs

GRID_CHARS = 28  # characters per line of 3号 text in the 版心 (GB/T 9704 §5.2.2)
GRID_SIZE = 16.0  # 3号
GRID_WIDTH = 156 * mm  # the portrait 版心
CANNOT_START = set("，。、；：？！）》〉」』】〕〗”’…·%‰,.;:?!)]}℃")
CANNOT_END = set("（《〈「『【〔〖“‘([{￥$")
# A run that must stay on one line: digits, Latin letters and what joins them.
_UNIT = re.compile(r"[A-Za-z0-9.\-_/%:×=+@#¥]+|.", re.S)


@dataclass(frozen=True)
class Line:
    text: str
    offset: float  # from the left edge of the paragraph box
    char_space: float
    hard_end: bool  # ends the paragraph or a "\n"


def grid_char_space(style: ParagraphStyle, width: float) -> float:
    """Space between characters that puts exactly 28 3号 characters on a full 版心 line (27
    gaps); 0 for other sizes and other boxes (table cells, the landscape 版心)."""
    if abs(style.fontSize - GRID_SIZE) > 0.01 or abs(width - GRID_WIDTH) > 1.0:
        return 0.0
    return (width - GRID_CHARS * style.fontSize) / (GRID_CHARS - 1)


def _width(text: str, style: ParagraphStyle, space: float) -> float:
    """Advance of `text` followed by one more gap (so widths of pieces add up)."""
    return stringWidth(text, style.fontName, style.fontSize) + space * len(text)


def _units(text: str) -> list[str]:
    return _UNIT.findall(text)


def _fits_split(unit: str, style: ParagraphStyle, space: float, room: float) -> int:
    """How many characters of an over-long unit fit in `room` (at least one)."""
    n = 1
    while n < len(unit) and _width(unit[: n + 1], style, space) - space <= room + 1e-6:
        n += 1
    return n


def break_lines(text: str, style: ParagraphStyle, width: float) -> list[Line]:
    """Lines of `text` in a box `width` wide, with 禁则 and the grid character spacing."""
    space = grid_char_space(style, width)
    usable = width - style.leftIndent - style.rightIndent
    # An indent of two 字 is two grid cells, so an indented line still holds 28 − 2 characters.
    first_indent = style.firstLineIndent * (1 + space / style.fontSize)
    out: list[Line] = []
    first = True
    for paragraph in text.split("\n"):
        units = _units(paragraph)
        while True:
            indent = first_indent if first else 0.0
            room = usable - indent
            first = False
            taken: list[str] = []
            used = 0.0
            while units:
                w = _width(units[0], style, space)
                if used + w - space <= room + 1e-6:  # no gap after a line's last character
                    taken.append(units.pop(0))
                    used += w
                    continue
                if not taken:  # a unit longer than the line: split it
                    n = _fits_split(units[0], style, space, room)
                    taken.append(units[0][:n])
                    units[0] = units[0][n:]
                break
            # 禁则: pull units down until neither side breaks a rule (never emptying the line).
            for _ in range(4):
                if units and len(taken) > 1 and (units[0][0] in CANNOT_START
                                                 or taken[-1][-1] in CANNOT_END):
                    units.insert(0, taken.pop())
                else:
                    break
            line = "".join(taken)
            hard = not units
            out.append(_place(line, style, space, indent, usable, hard))
            if hard:
                break
    return out


def _place(line: str, style: ParagraphStyle, space: float, indent: float, usable: float,
           hard: bool) -> Line:
    natural = _width(line, style, space) - space if line else 0.0
    slack = max(0.0, usable - indent - natural)
    left = style.leftIndent + indent
    if style.alignment == TA_CENTER:
        return Line(line, left + slack / 2, space, hard)
    if style.alignment == TA_RIGHT:
        return Line(line, left + slack, space, hard)
    if style.alignment == TA_JUSTIFY and not hard and len(line) > 1:
        return Line(line, left, space + slack / (len(line) - 1), hard)
    return Line(line, left, space, hard)


class GbParagraph(Flowable):
    """Plain text in one style, set line by line (see the module docstring)."""

    def __init__(self, text: str, style: ParagraphStyle, lines: list[Line] | None = None,
                 first_part: bool = True) -> None:
        super().__init__()
        self.text = text
        self.style = style
        self._lines = lines
        self._first_part = first_part
        self._given = lines is not None
        self.width = self.height = 0.0

    def __repr__(self) -> str:
        return f"GbParagraph({self.text[:20]!r})"

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if not self._given:
            self._lines = break_lines(self.text, self.style, available_width)
        self.width = available_width
        self.height = len(self._lines or []) * self.style.leading
        return self.width, self.height

    def minWidth(self) -> float:  # reportlab API name: the widest character decides
        return max((stringWidth(c, self.style.fontName, self.style.fontSize) for c in self.text),
                   default=0.0) + self.style.leftIndent + self.style.rightIndent

    def getSpaceBefore(self) -> float:  # reportlab API names
        return self.style.spaceBefore if self._first_part else 0.0

    def getSpaceAfter(self) -> float:
        return self.style.spaceAfter

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        self.wrap(available_width, available_height)
        lines = self._lines or []
        fit = int((available_height + 1e-6) // self.style.leading)
        if fit <= 0 or fit >= len(lines):
            return [] if fit <= 0 else [self]
        # Keep at least two lines on each side when the paragraph allows it (no widows/orphans).
        if len(lines) >= 4:
            fit = min(max(fit, 2), len(lines) - 2) if fit >= 2 else 0
        if fit <= 0:
            return []
        head = GbParagraph(self.text, self.style, lines[:fit], self._first_part)
        tail = GbParagraph(self.text, self.style, lines[fit:], False)
        head.style = _no_space_after(self.style)
        return [head, tail]

    def draw(self) -> None:
        st = self.style
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(st.textColor)
        # The baseline sits where reportlab's Paragraph puts it: one font size below the top of
        # the line's band, the rest of the leading below.
        for n, line in enumerate(self._lines or []):
            baseline = self.height - n * st.leading - st.fontSize
            text = canvas.beginText(line.offset, baseline)
            text.setCharSpace(line.char_space)
            for font_name, run in fallback_runs(line.text, st.fontName):
                text.setFont(font_name, st.fontSize)
                text.textOut(run)
            canvas.drawText(text)
        canvas.restoreState()


def _no_space_after(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}_head", parent=style, spaceAfter=0)
