"""Printing: Chinese fonts and the GB/T 9704 page for reportlab. No Qt here.

Typical use::

    from wq_desktop.printing import build_pdf, styles, para, check_printable

    check_printable(names)                 # refuse rare characters before laying out
    st = styles()
    story = [para("……公示", st["title"]), para("根据……", st["body"])]
    pages = build_pdf("out.pdf", story, title="……公示", demo=False)
"""

from wq_desktop.printing.fonts import (
    ROLES,
    ChosenFont,
    NoChineseFontError,
    Role,
    check_printable,
    chosen_fonts,
    font_for,
    missing_glyphs,
    register_fonts,
)
from wq_desktop.printing.page import (
    CHAR,
    LINE,
    PageGeometry,
    PageGroupStart,
    PageNumberStyle,
    build_pdf,
    format_cn_date,
    geometry,
    para,
    signature_block,
    story_missing_glyphs,
    styles,
    table_style,
    text_block_size,
)

__all__ = [
    "CHAR",
    "LINE",
    "ROLES",
    "ChosenFont",
    "NoChineseFontError",
    "PageGeometry",
    "PageGroupStart",
    "PageNumberStyle",
    "Role",
    "build_pdf",
    "check_printable",
    "chosen_fonts",
    "font_for",
    "format_cn_date",
    "geometry",
    "missing_glyphs",
    "para",
    "register_fonts",
    "signature_block",
    "story_missing_glyphs",
    "styles",
    "table_style",
    "text_block_size",
]
