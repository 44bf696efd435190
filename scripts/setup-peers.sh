#!/usr/bin/env bash
# Installs the peers the comparison scripts run beside scanwerk (idempotent): ghostscript (Debian,
# for OCRmyPDF's PDF/A output) and OCRmyPDF 17 + img2pdf from PyPI into target/ocrmypdf-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! command -v gs >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ghostscript >/dev/null
fi
VENV=$PWD/target/ocrmypdf-venv
if [ ! -x "$VENV/bin/ocrmypdf" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "ocrmypdf>=17,<18"
fi
if [ ! -x "$VENV/bin/img2pdf" ]; then
  "$VENV/bin/pip" install -q img2pdf
fi
