#!/usr/bin/env bash
# `make bundle`: builds the Linux artefacts into dist/ from a clean build environment:
#   dist/voice-assistant_<version>_<arch>.deb and dist/voice-assistant-<version>-linux-<machine>.tar.gz
# The environment (build/bundle-venv) holds only the app's runtime dependencies, pinned by
# packaging/constraints.txt, and PyInstaller; it is made again when either file list changes.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=build/bundle-venv
STAMP=$VENV/.installed
BUNDLE=build/pyinstaller/dist/voice-assistant
started=$SECONDS

export PATH=$PATH:/usr/sbin:/sbin # ldconfig, for users whose PATH lacks them
for tool in readelf strip dpkg-deb dpkg-query ldconfig; do
  if ! command -v "$tool" >/dev/null; then
    echo "bundle: $tool is missing (Debian packages binutils and dpkg: run make setup)" >&2
    exit 1
  fi
done

if [ ! -f $STAMP ] || [ pyproject.toml -nt $STAMP ] || [ packaging/constraints.txt -nt $STAMP ]; then
  echo "bundle: making the build environment $VENV"
  rm -rf $VENV
  "$PY" -m venv $VENV
  $VENV/bin/python -m pip install -q --upgrade pip
  $VENV/bin/python -m pip install -q -c packaging/constraints.txt pyinstaller .
  touch $STAMP
fi

if [ resources/voice-assistant.svg -nt resources/icons/voice-assistant-512.png ]; then
  $VENV/bin/python packaging/render_icons.py
fi

# The artefacts get this file's time: a source edited from now on counts as newer than them.
STARTED=build/bundle-started
touch $STARTED

# The app's own code changes between builds; its dependencies do not.
echo "bundle: installing the app into $VENV"
$VENV/bin/python -m pip install -q --no-deps --force-reinstall .
rm -rf build/lib build/bdist.* # setuptools' leftovers: stale files there would go into the next wheel

# Torch or transformers would add a gigabyte; the spec excludes them, and they must not be here.
if ! $VENV/bin/python - <<'EOF'
import importlib.util, sys
found = [m for m in ("torch", "transformers") if importlib.util.find_spec(m)]
sys.exit(f"bundle: {', '.join(found)} must not be in the build environment" if found else 0)
EOF
then exit 1; fi

echo "bundle: running PyInstaller"
pyinstaller_started=$SECONDS
$VENV/bin/pyinstaller --noconfirm --log-level WARN \
  --distpath build/pyinstaller/dist --workpath build/pyinstaller/work \
  packaging/voice-assistant.spec
echo "bundle: PyInstaller took $((SECONDS - pyinstaller_started)) s"

echo "bundle: making the .deb (compression ${DEB_COMPRESSION:-zstd:9}) and the tarball"
$VENV/bin/python packaging/build_linux.py --bundle $BUNDLE --dist dist --started $STARTED
echo "bundle: built in $((SECONDS - started)) s"
