#!/usr/bin/env bash
# Installs what `make run` / `make test` need on a Debian/Ubuntu machine, and nothing twice:
# the Debian packages (with apt when root, otherwise the exact command to run), a .venv, and the
# project in editable mode with its dev extras. Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed

# PortAudio headers (PyAudio builds against them), a virtual sound card, a virtual screen and what
# Qt's xcb plugin loads, xdotool to type keys into it, a speech synthesizer and sox for test clips,
# ImageMagick for screenshots, a font with Chinese characters (the Simplified Chinese window).
DEBS=(
  build-essential portaudio19-dev
  pulseaudio pulseaudio-utils libasound2-plugins
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libxcb-xkb1
  libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-shape0 libegl1 libgl1 libfontconfig1
  libdbus-1-3 libwayland-cursor0 libwayland-egl1
  x11-utils xdotool espeak-ng sox imagemagick fonts-wqy-microhei
)
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  DEBS+=(python3-venv python3-dev)
fi

missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: these Debian packages are missing. Install them, then run make again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python 3.11 or newer is needed; $PY is $("$PY" --version 2>&1)." >&2
  exit 1
fi

[ -x $VENV/bin/python ] || "$PY" -m venv $VENV
# Reinstall when pyproject.toml changed, or when the installed package no longer imports as the
# project's own (an editable install made before a package existed sees it as a namespace).
installed_ok() {
  (cd / && "$OLDPWD/$VENV/bin/python" -c 'import assistant, sys; sys.exit(assistant.__file__ is None)') \
    >/dev/null 2>&1
}
if [ ! -f $STAMP ] || [ pyproject.toml -nt $STAMP ] || ! installed_ok; then
  echo "setup: installing the project into $VENV"
  $VENV/bin/python -m pip install -q --upgrade pip
  $VENV/bin/python -m pip install -q -e '.[dev]'
  touch $STAMP
fi

# The end-of-turn model of hands-free mode (Smart Turn v3.2, BSD-2-Clause), taken from the one
# wheel that publishes it and checked by its sha256; quick and silent once it is there.
$VENV/bin/python scripts/fetch_smart_turn.py
