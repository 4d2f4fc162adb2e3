"""Draws the application icon (our own artwork): a water drop over furrowed fields.

Run from the repository root: python packaging/make_icon.py
Writes resources/icons/wq-desktop.png (256 px) and wq-desktop.ico (16–256 px).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"
SIZE = 1024  # drawn large, scaled down with antialiasing
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def draw() -> Image.Image:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    margin = 40
    d.rounded_rectangle((margin, margin, SIZE - margin, SIZE - margin), radius=180, fill=(22, 101, 132))
    # Fields: three furrowed strips, the last one pale (land retired from irrigation).
    strips = [(610, 700, (76, 160, 72)), (720, 810, (110, 182, 86)), (830, 920, (214, 196, 140))]
    for top, bottom, colour in strips:
        d.rounded_rectangle((margin + 60, top, SIZE - margin - 60, bottom), radius=30, fill=colour)
    # Water drop: a circle with a pointed top.
    cx, cy, r = SIZE // 2, 400, 170
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255))
    d.polygon([(cx - r * 0.87, cy - r * 0.5), (cx, 90), (cx + r * 0.87, cy - r * 0.5)], fill=(255, 255, 255))
    # A downward bar inside the drop: "less water".
    d.rounded_rectangle((cx - 95, cy + 10, cx + 95, cy + 60), radius=25, fill=(22, 101, 132))
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw()
    big.resize((256, 256), Image.Resampling.LANCZOS).save(OUT / "wq-desktop.png")
    big.save(OUT / "wq-desktop.ico", sizes=ICO_SIZES)
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
