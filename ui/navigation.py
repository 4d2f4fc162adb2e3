"""Left panel: search box and the 乡镇 → 村 → 组 tree with household counts."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wq_desktop.queries import navigation
from wq_desktop.queries.search import SearchHit, search_households
from wq_desktop.store import Store

ROLE = Qt.ItemDataRole.UserRole
MAX_VISIBLE_HITS = 6  # more scroll; the tree below keeps its room


class NavigationPanel(QWidget):
    village_selected = Signal(str, object)  # village uuid, group uuid or None
    township_selected = Signal(str)
    household_selected = Signal(str)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.search = QLineEdit()
        self.search.setObjectName("search_box")
        self.search.setPlaceholderText("搜索：姓名 / 身份证后几位 / 地块编号（Ctrl+F）")
        self.search.setClearButtonEnabled(True)
        self.hits = QListWidget()
        self.hits.setObjectName("search_hits")
        # Two short lines per hit (name; village · what matched), elided in the middle if the
        # panel is narrow; the full text is the tooltip.
        self.hits.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.hits.setWordWrap(False)
        self.hits.setUniformItemSizes(True)
        self.hits.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.hits.hide()
        self.no_hits = QLabel("没有找到匹配的农户。")
        self.no_hits.hide()
        self.tree = QTreeWidget()
        self.tree.setObjectName("nav_tree")
        self.tree.setHeaderLabels(["乡镇 / 村 / 组", "户数"])
        self.tree.setColumnWidth(0, 210)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.no_hits)
        layout.addWidget(self.hits)
        layout.addWidget(self.tree, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)  # search after typing pauses, not on every key
        self._timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self.jump_to_first)
        self.hits.itemActivated.connect(self._hit_chosen)
        self.hits.itemClicked.connect(self._hit_chosen)
        self.tree.currentItemChanged.connect(self._tree_chosen)

    def refresh(self) -> None:
        """Rebuild the tree (counts change as households are added), keeping the selection."""
        current = self.tree.currentItem()
        keep = current.data(0, ROLE) if current else None
        self.tree.blockSignals(True)
        self.tree.clear()
        restore = None
        for t in navigation.navigation_tree(self.store):
            t_item = QTreeWidgetItem([t.name, str(t.households)])
            t_item.setData(0, ROLE, ("township", t.uuid, None))
            self.tree.addTopLevelItem(t_item)
            for v in t.villages:
                v_item = QTreeWidgetItem([v.name, str(v.households)])
                v_item.setData(0, ROLE, ("village", v.uuid, v.uuid))
                t_item.addChild(v_item)
                for g in v.groups:
                    g_item = QTreeWidgetItem([g.name, str(g.households)])
                    g_item.setData(0, ROLE, ("group", g.uuid, v.uuid))
                    v_item.addChild(g_item)
                    if keep == ("group", g.uuid, v.uuid):
                        restore = g_item
                if keep == ("village", v.uuid, v.uuid):
                    restore = v_item
            t_item.setExpanded(True)
        for col in range(2):
            self.tree.resizeColumnToContents(col)
        if restore is not None:
            self.tree.setCurrentItem(restore)
        self.tree.blockSignals(False)

    def select_village(self, village: str) -> None:
        for item in self._items():
            if item.data(0, ROLE) == ("village", village, village):
                self.tree.setCurrentItem(item)
                return

    def select_first_village(self) -> None:
        """The first village of the first township, as the tree shows them (no second read)."""
        township = self.tree.topLevelItem(0)
        if township is not None and township.childCount():
            self.tree.setCurrentItem(township.child(0))

    def _items(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            out.append(item)
            stack += [item.child(i) for i in range(item.childCount())]
        return out

    def _tree_chosen(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        kind, uuid, village = item.data(0, ROLE)
        if kind == "township":
            self.township_selected.emit(uuid)
        elif kind == "village":
            self.village_selected.emit(uuid, None)
        else:
            self.village_selected.emit(village, uuid)

    # ------------------------------------------------------------ search
    def run_search(self) -> list[SearchHit]:
        self._timer.stop()
        text = self.search.text().strip()
        self.hits.clear()
        if not text:
            self.hits.hide()
            self.no_hits.hide()
            return []
        found = search_households(self.store, text)
        for hit in found:
            item = QListWidgetItem(f"{hit.name}\n{hit.village} · {hit.matched}")
            item.setToolTip(f"{hit.name} · {hit.village} · {hit.matched}")
            item.setData(ROLE, hit.operator)
            self.hits.addItem(item)
        self._fit_hits()
        self.hits.setVisible(bool(found))
        self.no_hits.setVisible(not found)
        return found

    def _fit_hits(self) -> None:
        """As tall as its hits, up to MAX_VISIBLE_HITS rows: one hit takes one item's height."""
        rows = min(self.hits.count(), MAX_VISIBLE_HITS)
        if rows == 0:
            return
        height = self.hits.sizeHintForRow(0) * rows + 2 * self.hits.frameWidth()
        self.hits.setFixedHeight(height)

    def jump_to_first(self) -> None:
        found = self.run_search()
        if found:
            self.hits.setCurrentRow(0)
            self.household_selected.emit(found[0].operator)

    def _hit_chosen(self, item: QListWidgetItem) -> None:
        self.household_selected.emit(item.data(ROLE))

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
