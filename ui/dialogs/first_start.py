"""First start without a store: create an empty (encrypted) one with its first local account,
open the demo township (fictional, unencrypted, marked 演示数据), or open a file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import accounts, keyfile
from wq_desktop.demo import create_demo_store
from wq_desktop.errors import ValidationError, WqError
from wq_desktop.operations import places

from ..widgets import ErrorLabel
from ..workers import JobContext, run_with_progress
from . import sign_in
from .sign_in import password_field

DEMO_FILE = "demo.sqlite"
EMPTY_FILE = "wq.sqlite"


def create_empty_store(path: Path, account: str, password: str, repeat: str,
                       township_code: str, township_name: str) -> str:
    """A new encrypted store holding only its township, `account` its first local account;
    returns the 恢复码. Refuses to touch an existing file; leaves nothing behind on failure."""
    if path.exists():
        raise WqError(f"文件已存在，不会覆盖：{path}")
    store, code = accounts.create_encrypted_store(path, account, password, repeat=repeat)
    try:
        places.create_township(store, township_code, township_name)  # no window to tell yet
    except BaseException:
        store.close()
        keyfile.forget(path)
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        raise
    store.close()
    return code


class FirstStartDialog(QDialog):
    """On accept, `chosen` is the store file to open and `user` the name to record changes under."""

    def __init__(self, data_folder: Path, user: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("欢迎使用退地减水核查")
        self.setMinimumWidth(560)
        self.data_folder = data_folder
        self.chosen: Path | None = None
        intro = QLabel("尚未打开任何数据库。请先填写您的姓名（记入每条变更记录），再选择：")
        intro.setWordWrap(True)
        self.user = QLineEdit(user)
        self.user.setObjectName("first_user")
        self.user.setPlaceholderText("您的姓名")
        self.user_error = ErrorLabel()
        user_form = QFormLayout()
        user_form.addRow("用户名＊", self.user)
        user_form.addRow("", self.user_error)

        demo_box = QGroupBox("试用：打开演示乡镇")
        demo_layout = QVBoxLayout(demo_box)
        demo_text = QLabel("六工镇三个虚构的演示村，156户、400个地块，含协议、公示、巡查与照片。"
                           "所有姓名和证件号均为虚构，打印件带“演示数据”水印。")
        demo_text.setWordWrap(True)
        self.demo_button = QPushButton("打开演示乡镇")
        self.demo_button.setObjectName("first_demo")
        demo_layout.addWidget(demo_text)
        demo_layout.addWidget(self.demo_button)

        empty_box = QGroupBox("正式使用：新建加密数据库")
        empty_form = QFormLayout(empty_box)
        empty_text = QLabel("上面的姓名即第一个本机账户；数据库文件加密保存，打开时需要登录。")
        empty_text.setWordWrap(True)
        self.password = password_field("first_password", "至少10位，含字母和数字")
        self.repeat = password_field("first_password_repeat", "再输入一次")
        self.township_code = QLineEdit()
        self.township_code.setPlaceholderText("9位乡镇代码，如 652301105")
        self.township_name = QLineEdit()
        self.township_name.setPlaceholderText("如 六工镇")
        self.empty_path = QLineEdit(str(data_folder / EMPTY_FILE))
        self.empty_button = QPushButton("新建加密数据库")
        self.empty_button.setObjectName("first_empty")
        empty_form.addRow(empty_text)
        empty_form.addRow("乡镇代码", self.township_code)
        empty_form.addRow("乡镇名称", self.township_name)
        empty_form.addRow("账户密码", self.password)
        empty_form.addRow("确认密码", self.repeat)
        empty_form.addRow("保存位置", self.empty_path)
        empty_form.addRow("", self.empty_button)

        self.open_button = QPushButton("打开已有数据库文件…")
        self.error = ErrorLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(user_form)
        columns = QHBoxLayout()
        columns.addWidget(demo_box)
        columns.addWidget(empty_box)
        layout.addLayout(columns)
        layout.addWidget(self.open_button)
        layout.addWidget(self.error)
        self.demo_button.clicked.connect(self.open_demo)
        self.empty_button.clicked.connect(self.create_empty)
        self.open_button.clicked.connect(self.open_existing)

    def _user(self) -> str | None:
        name = self.user.text().strip()
        self.user_error.show_error(None if name else "请填写用户名：每条记录都要记下由谁录入。")
        if not name:
            self.user.setFocus()
        return name or None

    def open_demo(self) -> None:
        user = self._user()
        if not user:
            return
        path = self.data_folder / DEMO_FILE
        if path.exists():  # built on an earlier start: open it again
            self._done(path)
            return

        def job(ctx: JobContext) -> Path:
            ctx.progress(5, "正在生成演示乡镇（约需数秒）…")
            create_demo_store(path, user).close()
            ctx.progress(100, "完成")
            return path

        def cancelled() -> None:  # the file was finished meanwhile: the user asked not to have it
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink(missing_ok=True)

        self.data_folder.mkdir(parents=True, exist_ok=True)
        self.demo_button.setEnabled(False)
        self.worker = run_with_progress(self, "打开演示乡镇", job, self._done, self._failed, cancelled)

    def _failed(self, message: str) -> None:
        self.demo_button.setEnabled(True)
        self.error.show_error(message)

    def create_empty(self) -> None:
        user = self._user()
        if not user:
            return
        path = Path(self.empty_path.text().strip())
        try:
            code = create_empty_store(path, user, self.password.text(), self.repeat.text(),
                                      self.township_code.text().strip(),
                                      self.township_name.text().strip())
        except ValidationError as err:
            self.error.show_error(err.message)
            return
        except (WqError, OSError) as err:
            self.error.show_error(str(err))
            return
        finally:
            self.password.clear()
            self.repeat.clear()
        sign_in.show_recovery_code(code, path.name, self)
        self._done(path)

    def open_existing(self) -> None:
        user = self._user()
        if not user:
            return
        name, _ = QFileDialog.getOpenFileName(self, "打开数据库", str(self.data_folder),
                                              "数据库 (*.sqlite *.db);;所有文件 (*)")
        if name:
            self._done(Path(name))

    def _done(self, path: Path) -> None:
        self.chosen = path
        self.accept()
