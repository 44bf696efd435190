#!/usr/bin/env bash
# Text from scanner PDFs: scanwerk (standard profile) and OCRmyPDF 17 (--force-ocr --rotate-pages,
# since some of these PDFs carry a text layer already and some pages are turned) on the pdf-inputs
# of ../shared/realscans whose page is the LinnSequencer brochure (ground truth ocrmypdf/linn.txt).
# Word recall of `pdftotext` of each output, with scripts/quality.py's normalisation, into
# benches/results/pdf-input-quality.md; fails if scanwerk's recall is more than 2 points below
# OCRmyPDF's on any file.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/benches/results/pdf-input-quality.md}
REALSCANS=$ROOT/../shared/realscans
FILES=(ccitt.pdf jbig2.pdf linn.pdf skew.pdf rotated_skew.pdf poster.pdf cardinal.pdf)

scripts/setup-peers.sh
cargo build --release -q
BIN=$ROOT/target/release/scanwerk
VENV=$ROOT/target/ocrmypdf-venv
WORK=$ROOT/target/compare-pdf-inputs
rm -rf "$WORK"
mkdir -p "$WORK/batch" "$WORK/archive" "$WORK/ocrmypdf"
for f in "${FILES[@]}"; do cp "$REALSCANS/pdf-inputs/$f" "$WORK/batch/"; done
printf 'id = "pdf-inputs"\n' > "$WORK/batch/batch.toml"
"$BIN" keygen --out "$WORK/keys" >/dev/null
"$BIN" ingest "$WORK/batch" --archive "$WORK/archive" --key "$WORK/keys/signing-key.pem" \
  --profile standard --quiet >/dev/null
for f in "${FILES[@]}"; do
  OMP_THREAD_LIMIT=1 "$VENV/bin/ocrmypdf" -q --force-ocr --rotate-pages -l deu+eng \
    "$REALSCANS/pdf-inputs/$f" "$WORK/ocrmypdf/$f"
done

/usr/bin/python3 - "$WORK" "$REALSCANS/ocrmypdf/linn.txt" "$OUT" "${FILES[@]}" <<'PY'
import datetime, subprocess, sys
sys.path.insert(0, "scripts")
from quality import recall
work, truth_path, out, *files = sys.argv[1:]
truth = open(truth_path, encoding="utf-8").read()
def text(pdf, page=None):
    args = ["pdftotext"] + (["-f", str(page), "-l", str(page)] if page else []) + [pdf, "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout
rows, ok = [], True
for f in files:
    pages = [None] if f != "cardinal.pdf" else [1, 2, 3, 4]
    for page in pages:
        ours = recall(truth, text(f"{work}/archive/pdf-inputs/data/documents/{f}", page))
        theirs = recall(truth, text(f"{work}/ocrmypdf/{f}", page))
        ok &= ours >= theirs - 0.02
        rows.append((f if page is None else f"{f} page {page}", ours, theirs))
tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
with open(out, "w") as fh:
    fh.write("# Text from scanner PDFs: scanwerk and OCRmyPDF\n\n")
    fh.write(f"Recorded by `scripts/compare-pdf-inputs.sh` on {datetime.date.today()}, {tess}, languages "
             "deu+eng; OCRmyPDF 17 with `--force-ocr --rotate-pages`. Word recall of `pdftotext` against "
             "`ocrmypdf/linn.txt` (scripts/quality.py's normalisation).\n\n")
    fh.write("| file | scanwerk | OCRmyPDF | difference |\n|---|---:|---:|---:|\n")
    for name, ours, theirs in rows:
        fh.write(f"| {name} | {ours:.3f} | {theirs:.3f} | {ours - theirs:+.3f} |\n")
print(open(out).read())
sys.exit(0 if ok else "scanwerk's recall is more than 2 points below OCRmyPDF's")
PY
