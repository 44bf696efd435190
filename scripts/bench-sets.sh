# Sourced by the benchmark scripts: the input sets they share.
#   real_set DIR             the fixed list of ../shared/realscans pages (text pages of every kind
#                            of input: G4, grey and colour TIFF, PNG, JPEG), as batch "bench-real"
#   mixed_set DIR            eight real pages of other kinds (magazine page with photo, colour
#                            photo pages, grey A4, skewed and bordered bilevel pages, historic
#                            prints), as batch "bench-mixed"
#   generated_set DIR PAGES  PAGES generated A4 pages (scripts/make-bench-batch.py), made once

REAL_SET=(
  tesseract-ocr-test/eurotext.tif
  tesseract-ocr-test/8087_054.3B.tif
  tesseract-ocr-test/phototest.tif
  ocrmypdf/linn.png
  dinglehopper/lorem-ipsum-scan-1.png
  paperless-ngx/multi-page-images.tiff
  pytesseract/test.jpg
  naps2/word_p2.jpg
)

# One page of each kind; scripts/bench-instructions.sh counts instructions on these.
MIXED_SET=(
  tesseract-ocr-test/8071_093.3B.tif
  ocrmypdf/masks-1.jpg
  naps2/word_p1.jpg
  dinglehopper/lorem-ipsum-scan-bad-1.png
  ocrmypdf/skew-1.png
  dinglehopper/462875_0008.jpg
  ocr-d-assets/INPUT_0017.tif
  unpaper/imgsrc001.png
)

REALSCANS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/realscans"

# copy_set DIR ID FILE…: the files (relative to realscans) as batch ID in DIR.
copy_set() {
  local dir=$1 id=$2 f
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in "$@"; do cp "$REALSCANS_DIR/$f" "$dir/${f//\//__}"; done
  printf 'id = "%s"\noperator = "Benchmark"\nscanned = "2026-11-20T09:30:00+01:00"\n' "$id" > "$dir/batch.toml"
}

real_set() { copy_set "$1" bench-real "${REAL_SET[@]}"; }
mixed_set() { copy_set "$1" bench-mixed "${MIXED_SET[@]}"; }

generated_set() {
  local dir=$1 pages=$2
  if [ ! -f "$dir/batch.toml" ]; then
    rm -rf "$dir"
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/make-bench-batch.py" "$dir" "$pages"
  fi
}
