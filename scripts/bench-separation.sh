#!/usr/bin/env bash
# What reading every page for separator sheets costs, per page, on one thread: the 30-page stack
# of scripts/make-separator-batch.py (1-bit 300 dpi and grey 200 dpi pages, five sheets) and the
# 40-page duplex stack of scripts/make-sheets.py --duplex (1-bit 300 dpi, half of it blank backs,
# six sheets). Reads the time scanwerk logs for its separation pre-pass ("separator sheets read").
# With a second binary, both run alternated (A, B, A, B …) and the ratio is printed.
#   RUNS=3 scripts/bench-separation.sh [BINARY] [OTHER_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
bin="$(realpath "${1:-target/release/scanwerk}")"
other="${2:+$(realpath "$2")}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
/usr/bin/python3 scripts/make-separator-batch.py "$work/stack30" >/dev/null
/usr/bin/python3 scripts/make-sheets.py "$work/d" --duplex >/dev/null
mv "$work/d/stack" "$work/duplex40"
printf 'id = "bench"\nversion = "1"\n[ocr]\nenabled = false\n[separation]\nmode = "patch-code+barcode"\nbarcode_pattern = '"'"'^AZ (?P<file_number>.+)$'"'"'\n' > "$work/profile.toml"
"$bin" keygen --out "$work/keys" >/dev/null
for run in $(seq "$RUNS"); do
  for side in bin other; do
    [ -n "${!side}" ] || continue
    for set in stack30 duplex40; do
      rm -rf "$work/archive"; mkdir "$work/archive"
      seconds=$(RUST_LOG=info RAYON_NUM_THREADS=1 "${!side}" ingest "$work/$set" --archive "$work/archive" \
        --profile "$work/profile.toml" --key "$work/keys/signing-key.pem" --threads 1 2>&1 \
        | grep "separator sheets read" | grep -o 'seconds=[0-9.]*' | cut -d= -f2)
      echo "$side $set $seconds" >> "$work/times"
    done
  done
done
python3 - "$work/times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
pages = {"stack30": 30, "duplex40": 40}
for s in pages:
    med = {side: statistics.median(float(r[2]) for r in rows if r[0] == side and r[1] == s)
           for side in ("bin", "other") if any(r[0] == side for r in rows)}
    line = f"{s}: {1000 * med['bin'] / pages[s]:.0f} ms per page"
    if "other" in med:
        line += f", other binary {1000 * med['other'] / pages[s]:.0f} ms per page, ratio {med['bin'] / med['other']:.2f}x"
    print(line + f" (median of {len([r for r in rows if r[0] == 'bin' and r[1] == s])} runs, one thread)")
PY
