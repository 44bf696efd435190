#!/usr/bin/env bash
# OCR quality on the real scans with ground truth: character error rate and word recall of
# scanwerk's PDFs (text layer read back with pdftotext -raw) beside the tesseract CLI on the same
# images.
# Writes benches/results/ocr-quality.md (or $1); see scripts/quality.py for the metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:-$ROOT/benches/results/ocr-quality.md}
REALSCANS=$ROOT/../shared/realscans

scripts/setup.sh
cargo build --release -q
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/batch" "$WORK/archive" "$WORK/keys" "$WORK/cli"
(cd "$REALSCANS" && find . -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.tif' -o -iname '*.tiff' \) | sort) |
  while read -r f; do f=${f#./}; cp "$REALSCANS/$f" "$WORK/batch/${f//\//__}"; done

target/release/scanwerk keygen --out "$WORK/keys" >/dev/null
target/release/scanwerk ingest "$WORK/batch" --archive "$WORK/archive" --key "$WORK/keys/signing-key.pem" \
  --profile standard >"$WORK/ingest.log" 2>&1

export OMP_THREAD_LIMIT=1
ls "$WORK/batch" | xargs -P "$(nproc)" -I{} sh -c \
  'tesseract "$1/batch/$2" "$1/cli/$2" -l deu+eng >/dev/null 2>&1 || : > "$1/cli/$2.txt"' _ "$WORK" {}

{
  echo "# OCR quality: scanwerk vs tesseract CLI"
  echo
  echo "Recorded by \`scripts/quality.sh\` on $(date -u +%Y-%m-%d) with $(tesseract --version 2>&1 | head -1),"
  echo "languages deu+eng, the standard profile (orientation detection, OCR of a deskewed copy)."
  echo "Lower CER and higher recall are better; texts are normalised alike, scanwerk's read with"
  echo "\`pdftotext -raw\` (see scripts/quality.py). The CLI reads pages as they lie: turned pages fail."
  echo
  python3 scripts/quality.py "$REALSCANS" "$WORK/archive/batch/data/documents" "$WORK/cli"
} >"$OUT"
cat "$OUT"
