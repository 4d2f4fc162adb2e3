"""Packaging files agree with the code: bundled modules, version, icon, menu entry, installer, scripts.

The bundle itself is built and run by packaging/build_linux.sh and packaging/smoke_test.sh (CI);
these tests catch the mistakes that would only show there, in milliseconds.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
import bundle_config  # noqa: E402

import wq_desktop  # noqa: E402


def test_every_cli_module_is_bundled() -> None:
    # The CLI finds cli_*.py with pkgutil at run time; a module missing here is a command
    # that silently disappears from the installed program.
    on_disk = {f"wq_desktop.{p.stem}" for p in (ROOT / "wq_desktop").glob("cli_*.py")}
    assert {"wq_desktop.cli_commands", "wq_desktop.cli_backup"} <= on_disk
    assert set(bundle_config.cli_modules()) == on_disk
    own = bundle_config.own_modules()
    assert "ui.app" in own and "wq_desktop.printing.page" in own and "wq_desktop.backup" in own


def test_version_comes_from_the_package() -> None:
    assert bundle_config.version() == wq_desktop.__version__
    numbers = bundle_config.windows_version_tuple()
    assert len(numbers) == 4 and ".".join(map(str, numbers)).startswith(wq_desktop.__version__)


def test_spec_uses_the_shared_config_and_the_resource_folder_name() -> None:
    spec = (PACKAGING / "wq-desktop.spec").read_text(encoding="utf-8")
    # wq_desktop/resources.py looks for sys._MEIPASS/resources: the destination must match.
    assert '(str(cfg.ROOT / "resources"), "resources")' in spec
    assert "hiddenimports=hiddenimports" in spec and "cfg.own_modules()" in spec
    assert "icon=str(cfg.ICON_ICO)" in spec
    compile(spec, "wq-desktop.spec", "exec")  # at least valid Python


def test_icon_files() -> None:
    png = Image.open(bundle_config.ICON_PNG)
    assert png.size == (256, 256) and png.mode == "RGBA"
    assert png.getpixel((0, 0))[3] == 0  # rounded corners are transparent
    ico = Image.open(bundle_config.ICON_ICO)
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])


def test_desktop_entry() -> None:
    path = PACKAGING / "wq-desktop.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(path, encoding="utf-8")
    group = entry["Desktop Entry"]
    assert group["Type"] == "Application"
    assert group["Exec"].split()[0] == bundle_config.APP_NAME
    assert group["Icon"] == bundle_config.ICON_PNG.stem
    assert group["Name[zh_CN]"] == "退地减水核查"
    assert group["Terminal"] == "false"
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_installer_script_matches_the_bundle() -> None:
    raw = (PACKAGING / "wq-desktop.iss").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Inno Setup reads Chinese text correctly only with a UTF-8 BOM"
    iss = raw.decode("utf-8-sig")
    assert f'#define AppExe "{bundle_config.APP_NAME}.exe"' in iss
    assert '#define BundleDir "dist\\wq-desktop"' in iss  # the spec's COLLECT name under --distpath
    icon = re.search(r"^SetupIconFile=(.+)$", iss, re.M)
    assert icon and (PACKAGING / icon.group(1).replace("\\", "/")).resolve() == bundle_config.ICON_ICO
    assert "PrivilegesRequired=lowest" in iss  # installs without administrator rights
    # User data lives in the data folder, never under {app}, and uninstalling never deletes it.
    assert not re.search(r"^\[UninstallDelete\]", iss, re.M) and "{localappdata}" not in iss.lower()


@pytest.mark.parametrize("script", ["build_linux.sh", "smoke_test.sh", "install_linux.sh"])
def test_shell_scripts_parse(script: str) -> None:
    path = PACKAGING / script
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    checker = shutil.which("shellcheck")
    if checker:
        result = subprocess.run([checker, str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout


def test_smoke_test_fails_clearly_without_a_bundle(tmp_path: Path) -> None:
    result = subprocess.run(["bash", str(PACKAGING / "smoke_test.sh"), str(tmp_path / "none")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "smoke_test: FAILED: no bundle" in result.stderr


def test_smoke_test_fails_on_a_broken_program(tmp_path: Path) -> None:
    # A "bundle" whose program crashes must fail the smoke test with a line saying which step.
    bundle = tmp_path / "wq-desktop"
    bundle.mkdir()
    program = bundle / "wq-desktop"
    program.write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nexit 1\n", encoding="utf-8")
    program.chmod(0o755)
    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo (poppler-utils) not installed")
    result = subprocess.run(["bash", str(PACKAGING / "smoke_test.sh"), str(bundle)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "smoke_test: FAILED:" in result.stderr
