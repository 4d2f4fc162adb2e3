"""Small pieces every document shares: table cell styles at a given size, number cells, check boxes,
the public/private rendering of IDs and phones, and the glyph-error wording."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from wq_desktop import figures
from wq_desktop.printing.page import para, styles
from wq_desktop.rules import masking
from wq_desktop.rules.phones import format_phone

CHECKED = "■"  # both in 宋体 and the free fonts; ☑/✓ are not
UNCHECKED = "□"


def cell_styles(size: float) -> dict[str, ParagraphStyle]:
    """Left / centre / right / header paragraph styles for table cells at `size` pt."""
    base = styles()
    lead = size * 1.25
    return {
        "left": ParagraphStyle(f"cell_l{size}", parent=base["table"], fontSize=size, leading=lead,
                               alignment=TA_LEFT),
        "center": ParagraphStyle(f"cell_c{size}", parent=base["table"], fontSize=size, leading=lead,
                                 alignment=TA_CENTER),
        "right": ParagraphStyle(f"cell_r{size}", parent=base["table"], fontSize=size, leading=lead,
                                alignment=TA_RIGHT),
        "header": ParagraphStyle(f"cell_h{size}", parent=base["table_header"], fontSize=size,
                                 leading=lead),
    }


def cells(texts: list[Any], style: ParagraphStyle) -> list[Any]:
    """Wrap texts as paragraphs (so long names break), leave other flowables as they are."""
    return [para(t, style) if isinstance(t, str) else t for t in texts]


def mu(value: Decimal) -> str:
    """An area of record as printed: "12.35"."""
    return figures.show(value)


def money(value: Decimal) -> str:
    """An amount or rate of record as printed: "4940.00"."""
    return figures.show(value)


def boxes(options: tuple[str, ...] | list[str], chosen: list[str] | set[str] | tuple[str, ...] = ()
          ) -> str:
    """"■合规 □违规-灌溉 …": a check box before every option, filled for the chosen ones."""
    return "  ".join(f"{CHECKED if o in chosen else UNCHECKED}{o}" for o in options)


def public_id(id_code: str) -> str:
    """ID number as printed in public documents (notice, lists, summaries): 652301********1234."""
    return masking.mask_id(id_code)


def public_phone(phone: str) -> str:
    return masking.mask_phone(phone) if phone else ""


def full_phone(phone: str) -> str:
    return format_phone(phone) if phone else ""


def header_paragraphs(titles: list[str], style: ParagraphStyle) -> list[Paragraph]:
    return [para(t, style) for t in titles]
