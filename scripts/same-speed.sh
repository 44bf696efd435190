#!/usr/bin/env bash
# Two scanwerk binaries side by side on the bench's real set (scripts/bench.sh), runs alternated
# (A, B, A, B …) so that both see the same machine: median wall and CPU seconds of each and the
# ratio after/before. For refactorings that must not cost speed.
#   RUNS=5 scripts/same-speed.sh BEFORE_BINARY AFTER_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
before="$(realpath "$1")"; after="$(realpath "$2")"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/real"
for f in tesseract-ocr-test/eurotext.tif tesseract-ocr-test/8087_054.3B.tif tesseract-ocr-test/phototest.tif \
         ocrmypdf/linn.png dinglehopper/lorem-ipsum-scan-1.png paperless-ngx/multi-page-images.tiff \
         pytesseract/test.jpg naps2/word_p2.jpg; do
  cp "../shared/realscans/$f" "$work/real/${f//\//__}"
done
printf 'id = "same-speed"\noperator = "Benchmark"\nscanned = "2026-11-20T09:30:00+01:00"\n' > "$work/real/batch.toml"
"$before" keygen --out "$work/keys" >/dev/null
for run in $(seq "$RUNS"); do
  for side in before after; do
    rm -rf "$work/archive"; mkdir "$work/archive"
    /usr/bin/time -f "$side %e %U %S" -a -o "$work/times" \
      "${!side}" --quiet ingest "$work/real" --archive "$work/archive" --key "$work/keys/signing-key.pem" >/dev/null 2>&1
  done
done
python3 - "$work/times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for side in ("before", "after"):
    wall = [float(r[1]) for r in rows if r[0] == side]
    cpu = [float(r[2]) + float(r[3]) for r in rows if r[0] == side]
    med[side] = (statistics.median(wall), statistics.median(cpu))
    print(f"{side:<7} wall {med[side][0]:6.2f} s  cpu {med[side][1]:6.2f} s  (runs: {', '.join(f'{w:.2f}' for w in wall)})")
print(f"after/before: wall {med['after'][0] / med['before'][0]:.3f}x, cpu {med['after'][1] / med['before'][1]:.3f}x")
PY
