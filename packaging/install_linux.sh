#!/usr/bin/env bash
# Installs an unpacked wq-desktop bundle for the current user: menu entry and icon.
# Run it from inside the bundle folder: bash install_linux.sh
set -euo pipefail
BUNDLE="$(cd "$(dirname "$0")" && pwd)"
APPS="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
ICONS="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
mkdir -p "$APPS" "$ICONS" "$HOME/.local/bin"
cp "$BUNDLE/wq-desktop.png" "$ICONS/wq-desktop.png"
ln -sf "$BUNDLE/wq-desktop" "$HOME/.local/bin/wq-desktop"
# The menu entry names the program by its full path, so it works without ~/.local/bin on PATH.
sed -e "s|^Exec=.*|Exec=\"$BUNDLE/wq-desktop\"|" -e "s|^TryExec=.*|TryExec=$BUNDLE/wq-desktop|" \
  "$BUNDLE/wq-desktop.desktop" > "$APPS/wq-desktop.desktop"
echo "已安装：菜单项 $APPS/wq-desktop.desktop，命令 $HOME/.local/bin/wq-desktop"
