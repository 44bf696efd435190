#!/usr/bin/env bash
# Installs the Debian packages scanwerk needs to build, run and test. Idempotent:
# packages already present are not touched, and apt is only asked when one is missing.
set -euo pipefail

PACKAGES=(
  tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng tesseract-ocr-osd
  libtesseract-dev libleptonica-dev clang libclang-dev pkg-config
  poppler-utils qpdf openssl time strace softhsm2 opensc nats-server lintian debootstrap
  libimage-exiftool-perl python3-fonttools python3-pil python3-numpy python3-venv curl
  chromium chromium-driver fonts-dejavu-core groff-base zint zbar-tools
  default-jdk-headless libbcprov-java libbcpkix-java libbcutil-java
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pyHanko (PyPI) validates the PAdES signatures in the tests, independently of scanwerk.
VENV="$(cd "$(dirname "$0")/.." && pwd)/target/pyhanko-venv"
if [ ! -x "$VENV/bin/pyhanko" ]; then
  echo "setup: installing pyHanko into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "pyHanko==0.38.0" "pyhanko-cli==0.6.0"
fi

# bagit.py (PyPI, the Library of Congress's BagIt tool) validates the bags in the tests.
BAGIT_VENV="$(cd "$(dirname "$0")/.." && pwd)/target/bagit-venv"
if [ ! -x "$BAGIT_VENV/bin/bagit.py" ]; then
  echo "setup: installing bagit.py into $BAGIT_VENV" >&2
  /usr/bin/python3 -m venv "$BAGIT_VENV"
  "$BAGIT_VENV/bin/pip" install -q --disable-pip-version-check "bagit==1.8.1"
fi

# veraPDF (the reference PDF/A validator, offline, in ../shared/tools/verapdf) needs a JRE and
# four Debian packages; its own script installs them (idempotent).
VERAPDF_DEPS="$(cd "$(dirname "$0")/.." && pwd)/../shared/tools/verapdf/install-deps.sh"
if [ -x "$VERAPDF_DEPS" ]; then
  "$VERAPDF_DEPS" >/dev/null
fi
