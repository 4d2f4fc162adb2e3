"""The city office's web view, served by wq_server at `/`: 进度, 三级汇总表, 督办, 一张图, 数据检查.

Signed in with the server's own accounts (office: every township; township staff: their own,
read-only). Server-rendered HTML (Jinja2) with small scripts; every script and style is served
from `static/`, so it works with no internet.
"""

from .frame import error_page, is_web_path
from .pages import install
from .read_model import for_db as read_model_for

__all__ = ["error_page", "install", "is_web_path", "read_model_for"]
