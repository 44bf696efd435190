# Sourced by the benchmark scripts: the input sets they share.
#   real_set DIR             the fixed list of ../shared/realscans pages (text pages of every kind
#                            of input: G4, grey and colour TIFF, PNG, JPEG), as batch "bench-real"
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

real_set() {
  local dir=$1 realscans
  realscans="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/realscans"
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in "${REAL_SET[@]}"; do cp "$realscans/$f" "$dir/${f//\//__}"; done
  printf 'id = "bench-real"\noperator = "Benchmark"\nscanned = "2026-11-20T09:30:00+01:00"\n' > "$dir/batch.toml"
}

generated_set() {
  local dir=$1 pages=$2
  if [ ! -f "$dir/batch.toml" ]; then
    rm -rf "$dir"
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/make-bench-batch.py" "$dir" "$pages"
  fi
}
