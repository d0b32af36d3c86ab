#!/usr/bin/env bash
# Builds "Voice Assistant.app" and dist/voice-assistant-<version>-macos-<arch>.dmg on macOS, from a
# clean build environment (only the app's runtime dependencies, pinned by packaging/constraints.txt,
# and PyInstaller). It cannot run on the Linux build machine; keep it correct by review.
# Needs: Python 3.11+, Homebrew's portaudio (PyAudio builds against it; PyInstaller bundles it).
# Set CODESIGN_IDENTITY="Developer ID Application: ..." to sign with the hardened runtime and the
# entitlements (microphone); notarize the .dmg afterwards with `xcrun notarytool submit`.
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PYTHON:-python3}
VENV=build/bundle-venv
PORTAUDIO=$(brew --prefix portaudio)
APP="build/pyinstaller/dist/Voice Assistant.app"

"$PY" -m venv --clear $VENV
$VENV/bin/python -m pip install -q --upgrade pip
CFLAGS="-I$PORTAUDIO/include" LDFLAGS="-L$PORTAUDIO/lib" \
  $VENV/bin/python -m pip install -q -c packaging/constraints.txt pyinstaller .
$VENV/bin/pyinstaller --noconfirm --log-level WARN \
  --distpath build/pyinstaller/dist --workpath build/pyinstaller/work \
  packaging/voice-assistant.spec

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --deep --timestamp --options runtime \
    --entitlements packaging/macos/entitlements.plist --sign "$CODESIGN_IDENTITY" "$APP"
fi
VERSION=$($VENV/bin/python -c 'from importlib.metadata import version; print(version("voice-assistant"))')
mkdir -p dist
hdiutil create -volname "Voice Assistant" -srcfolder "$APP" -ov -format UDZO \
  "dist/voice-assistant-$VERSION-macos-$(uname -m).dmg"
