#!/usr/bin/env bash
# Install the built bundle for the current user (no root): ~/.local/opt/visage, the `visage` command in
# ~/.local/bin, the desktop entry and the icons in the freedesktop icon theme.
#
#     bash packaging/install_linux.sh [dist/visage]        # uninstall: bash packaging/install_linux.sh --remove
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${XDG_DATA_HOME:-$HOME/.local/share}"
OPT="$HOME/.local/opt/visage"
BIN="$HOME/.local/bin"
if [ "${1:-}" = "--remove" ]; then
  rm -rf "$OPT" "$BIN/visage" "$PREFIX/applications/visage.desktop"
  for s in 16 24 32 48 64 128 256 512; do rm -f "$PREFIX/icons/hicolor/${s}x${s}/apps/visage.png"; done
  echo "Removed Visage (your history and models stay in $PREFIX/visage)."
  exit 0
fi
SRC="${1:-dist/visage}"
[ -x "$SRC/visage" ] || { echo "No bundle in $SRC: run bash scripts/build_bundle.sh first." >&2; exit 1; }
mkdir -p "$OPT" "$BIN" "$PREFIX/applications"
rm -rf "$OPT" && cp -a "$SRC" "$OPT"
ln -sf "$OPT/visage" "$BIN/visage"
sed "s|^Exec=.*|Exec=$OPT/visage run|" packaging/visage.desktop > "$PREFIX/applications/visage.desktop"
for s in 16 24 32 48 64 128 256 512; do
  install -Dm644 "packaging/icons/visage-$s.png" "$PREFIX/icons/hicolor/${s}x${s}/apps/visage.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$PREFIX/applications" || true
echo "Installed: $OPT (command: $BIN/visage; menu entry: Visage)"
