#!/usr/bin/env bash
# Builds the Linux one-folder bundle into packaging/dist/wq-desktop/ with PyInstaller.
# Uses $PYTHON if set, else .venv/bin/python (created by scripts/setup.sh when missing), and
# installs the pinned PyInstaller into that environment if it is not there yet.
# Usage: bash packaging/build_linux.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYINSTALLER_PIN="pyinstaller==6.22.3"
HOOKS_PIN="pyinstaller-hooks-contrib==2026.9"  # its hooks decide what pyproj/shapely/Qt bring along

fail() { echo "build_linux: FAILED: $*" >&2; exit 1; }

if [ -z "${PYTHON:-}" ]; then
  [ -x .venv/bin/python ] || bash scripts/setup.sh || fail "scripts/setup.sh could not set up .venv"
  PYTHON=.venv/bin/python
fi
[ -x "$PYTHON" ] || command -v "$PYTHON" >/dev/null 2>&1 || fail "no Python at $PYTHON"

installed() {  # exit 0 when the distribution $1 is installed at exactly version $2
  "$PYTHON" -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null
}
if ! installed pyinstaller "${PYINSTALLER_PIN#*==}" || ! installed pyinstaller-hooks-contrib "${HOOKS_PIN#*==}"; then
  echo "build_linux: installing $PYINSTALLER_PIN $HOOKS_PIN"
  "$PYTHON" -m pip install -q "$PYINSTALLER_PIN" "$HOOKS_PIN" || fail "could not install $PYINSTALLER_PIN"
fi

# The icon is drawn by a script; redraw only if someone deleted it.
[ -f resources/icons/wq-desktop.ico ] || "$PYTHON" packaging/make_icon.py

rm -rf packaging/build packaging/dist
"$PYTHON" -m PyInstaller packaging/wq-desktop.spec --noconfirm --clean --log-level WARN \
  --distpath packaging/dist --workpath packaging/build || fail "PyInstaller did not finish"

BUNDLE=packaging/dist/wq-desktop
[ -x "$BUNDLE/wq-desktop" ] || fail "$BUNDLE/wq-desktop was not produced"
# Desktop integration files travel with the bundle (install_linux.sh puts them in the menu).
cp packaging/wq-desktop.desktop packaging/install_linux.sh resources/icons/wq-desktop.png "$BUNDLE/"
echo "build_linux: OK: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
