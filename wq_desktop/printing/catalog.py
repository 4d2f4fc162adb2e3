"""The printable documents and the one entry point the CLI and the window's print preview call.

    for doc in DOCUMENTS: print(doc.key, doc.name)
    pages = render_document(store, "notice", year=2026, village="652301105901", out="公示.pdf")

Every page printed from the demo store carries the 演示数据 watermark. A character no font can
draw is reported before anything is written (ValidationError naming the document and the text).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import BinaryIO

from reportlab.platypus import Flowable

from wq_desktop.errors import ValidationError
from wq_desktop.printing.agreement import (
    agreement_households,
    agreements_story,
    attachments_story,
)
from wq_desktop.printing.contact_list import contact_list_data, contact_list_story
from wq_desktop.printing.fonts import MISSING_MARK, substitute_unprintable
from wq_desktop.printing.notice import notice_data, notice_story
from wq_desktop.printing.page import PageNumberStyle, build_pdf, para, styles
from wq_desktop.printing.patrol_sheet import blank_sheets, filled_sheet, sheets_story
from wq_desktop.printing.planting_survey import planting_document, planting_story
from wq_desktop.printing.summary_table import summary_story, summary_table_data
from wq_desktop.store import Store


@dataclass(frozen=True)
class Document:
    key: str
    name: str  # Chinese name for menus and messages
    scope: str  # what the user must choose, in Chinese
    landscape: bool
    page_numbers: PageNumberStyle


DOCUMENTS: tuple[Document, ...] = (
    Document("agreement", "退减灌溉（休耕轮作）协议书", "一户（身份证号）或一个村", False, "of_total"),
    Document("attachment", "附件1 地块示意图及界址点坐标表", "一户（身份证号）或一个村", False,
             "of_total"),
    Document("notice", "村级公示", "一个村", True, "gbt9704"),
    Document("contacts", "退地减水包联责任落实清单", "一个村或全乡镇", True, "gbt9704"),
    Document("summary", "村/乡镇/市三级汇总表", "全部或一个村", True, "gbt9704"),
    Document("patrol", "巡查记录表", "一条巡查记录，或空白表（一户/一个村/一张）", False, "of_total"),
    Document("planting", "种植面积摸底核查汇总表及用水量测算", "全部或一个村", True, "gbt9704"),
)
_BY_KEY = {d.key: d for d in DOCUMENTS}


def document(key: str) -> Document:
    try:
        return _BY_KEY[key]
    except KeyError:
        names = "、".join(f"{d.key}（{d.name}）" for d in DOCUMENTS)
        raise ValidationError(f"未知的文书类型“{key}”，可选：{names}") from None


@dataclass(frozen=True)
class Built:
    title: str
    story: list[Flowable]


def _agreement(store: Store, year: int, village: str | None, operator: str | None,
               patrol: str | None) -> Built:
    households = agreement_households(store, year, village=village, operator=operator)
    first = households[0]
    scope = first.name if operator else first.village_name
    return Built(f"{scope}{year}年度退减协议书", agreements_story(households, year, store))


def _attachment(store: Store, year: int, village: str | None, operator: str | None,
                patrol: str | None) -> Built:
    households = agreement_households(store, year, village=village, operator=operator)
    scope = households[0].name if operator else households[0].village_name
    return Built(f"{scope}{year}年度协议附件1 地块示意图及界址点坐标表",
                 attachments_story(store, households, year))


def _notice(store: Store, year: int, village: str | None, operator: str | None,
            patrol: str | None) -> Built:
    if not village:
        raise ValidationError("打印公示请指定村（12位村代码）。")
    data = notice_data(store, year, village)
    # One name with a character no font has must not stop the notice of the whole village: it
    # prints with 〓 there and a note to write the character in by hand (the form warned when typed).
    rows, marked = [], False
    for row in data.rows:
        name, missing = substitute_unprintable(row.name)
        marked = marked or bool(missing)
        rows.append(replace(row, name=name) if missing else row)
    story = notice_story(replace(data, rows=rows))
    if marked:
        story.insert(-2, para(f"注：姓名中的“{MISSING_MARK}”为本机字库没有的生僻字，以手写补正为准。",
                              styles()["body_small"]))
    return Built(data.title, story)


def _contacts(store: Store, year: int, village: str | None, operator: str | None,
              patrol: str | None) -> Built:
    data = contact_list_data(store, year, village)
    return Built(data.title, contact_list_story(data))


def _summary(store: Store, year: int, village: str | None, operator: str | None,
             patrol: str | None) -> Built:
    data = summary_table_data(store, year, village)
    return Built(data.title, summary_story(data))


def _patrol(store: Store, year: int, village: str | None, operator: str | None,
            patrol: str | None) -> Built:
    if patrol:
        sheets = [filled_sheet(store, patrol)]
    else:
        sheets = blank_sheets(store, year, village=village, operator=operator)
    return Built("退地减水巡查记录表", sheets_story(sheets))


def _planting(store: Store, year: int, village: str | None, operator: str | None,
              patrol: str | None) -> Built:
    data = planting_document(store, year, village)
    return Built(data.title, planting_story(data))


_BUILDERS: dict[str, Callable[[Store, int, str | None, str | None, str | None], Built]] = {
    "agreement": _agreement, "attachment": _attachment, "notice": _notice, "contacts": _contacts,
    "summary": _summary, "patrol": _patrol, "planting": _planting,
}


def render_document(store: Store, doc: str, *, year: int, village: str | None = None,
                    operator: str | None = None, patrol: str | None = None,
                    out: str | os.PathLike[str] | BinaryIO) -> int:
    """Write document `doc` ("agreement", "notice", "contacts", "summary", "patrol", "planting") as PDF to
    `out` (path or binary buffer); returns the page count.

    village: 12-digit code or UUID; operator: ID number / credit code or UUID; patrol: UUID of a
    logged patrol (filled sheet). Raises ValidationError (Chinese) for a missing choice, missing
    records or characters no installed font can print; nothing is written then.
    """
    d = document(doc)
    return _build(store, d, _BUILDERS[d.key](store, year, village, operator, patrol), out)


def render_summary(store: Store, *, year: int, out: str | os.PathLike[str] | BinaryIO,
                   only_township: str | None = None) -> int:
    """The 三级汇总表 as PDF, of one township (UUID) only if given: what a township's own store
    prints, from a store holding the whole city (the server's)."""
    data = summary_table_data(store, year, None, only_township)
    return _build(store, document("summary"), Built(data.title, summary_story(data)), out)


def _build(store: Store, d: Document, built: Built, out: str | os.PathLike[str] | BinaryIO) -> int:
    try:
        return build_pdf(out, built.story, title=built.title, landscape=d.landscape,
                         demo=store.is_demo, page_numbers=d.page_numbers, author=store.user)
    except ValidationError as err:
        raise ValidationError(
            f"《{d.name}》未打印：{err.message}。为避免打印出方框，本次没有生成文件；请联系管理员配置"
            "包含该字的字体，或经本人确认后在记录中改用通用写法。") from None
