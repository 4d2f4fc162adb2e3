"""打印中心: document choice, PDF generation off the GUI thread, paged preview, printing and
saving as PDF. Pages are drawn by pdfium (pypdfium2) from the very PDF the core wrote."""

from .print_center import PrintCenter, open_print_center

__all__ = ["PrintCenter", "open_print_center"]
