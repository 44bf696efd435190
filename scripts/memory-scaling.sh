#!/usr/bin/env bash
# Peak memory against batch size: scanwerk ingest on generated batches of 50 and 1,000 A4 pages
# (scripts/make-bench-batch.py), once as one document and once as documents of 10 pages, peak RSS
# by GNU time. Pages in flight are bounded and PDFs are streamed, so the peak must not grow with
# the page count: the script fails if 1,000 pages need more than 10 % over 50 pages.
#
#   scripts/memory-scaling.sh                       image-only profile (decode, encode, compose,
#                                                   seal: everything but OCR), writes
#                                                   benches/results/memory-scaling.md
#   PROFILE=standard SIZES="20 60" OUT=benches/results/memory-scaling-ocr.md scripts/memory-scaling.sh
#                                                   with OCR (slow: ~5 s per page and core; a batch
#                                                   of 10 has no JPEG folder, so start at 20)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PROFILE=${PROFILE:-image-only}
SIZES=${SIZES:-50 1000}
OUT=${OUT:-$ROOT/benches/results/memory-scaling.md}
PY=/usr/bin/python3

scripts/setup.sh
cargo build --release -q
BIN=$ROOT/target/release/scanwerk
WORK=$ROOT/target/memory
mkdir -p "$WORK"
if [ ! -f "$WORK/keys/signing-key.pem" ]; then
  "$BIN" keygen --out "$WORK/keys" >/dev/null
fi

: > "$WORK/results.txt"
for pages in $SIZES; do
  for shape in documents-of-10 one-document; do
    batch=$WORK/$shape-$pages
    if [ ! -f "$batch/batch.toml" ]; then
      rm -rf "$batch"
      if [ "$shape" = one-document ]; then
        $PY scripts/make-bench-batch.py "$batch" "$pages" --single-document
      else
        $PY scripts/make-bench-batch.py "$batch" "$pages"
      fi
    fi
    rm -rf "$WORK/archive"
    mkdir -p "$WORK/archive"
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" \
      "$BIN" ingest "$batch" --archive "$WORK/archive" --key "$WORK/keys/signing-key.pem" \
      --profile "$PROFILE" >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; exit 1; }
    read -r wall rss < <(tail -1 "$WORK/time.txt")
    echo "$shape $pages $wall $rss" >> "$WORK/results.txt"
    echo "  $shape, $pages pages: ${wall}s, $((rss / 1024)) MiB peak" >&2
  done
done

$PY - "$WORK/results.txt" "$OUT" "$PROFILE" <<'EOF'
import datetime, os, sys
results, out, profile = sys.argv[1:]
rows = [l.split() for l in open(results)]
by = {}
for shape, pages, wall, rss in rows:
    by.setdefault(shape, []).append((int(pages), float(wall), int(rss)))
cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip()
lines = [
    "# Peak memory against batch size\n",
    f"Recorded by `scripts/memory-scaling.sh` on {datetime.date.today()} ({os.cpu_count()} cores, {cpu}), "
    f"profile `{profile}`, release build, default threads. Peak RSS by GNU time.\n",
    "| batch | pages | wall s | peak RSS MiB | vs smallest |",
    "|---|---:|---:|---:|---:|",
]
ok = True
for shape, runs in by.items():
    runs.sort()
    base = runs[0][2]
    for pages, wall, rss in runs:
        ratio = rss / base
        ok &= ratio <= 1.10
        lines.append(f"| {shape.replace('-', ' ')} | {pages} | {wall:.1f} | {rss / 1024:.1f} | {ratio:.3f}× |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
if not ok:
    sys.exit("peak RSS grew more than 10 % with the page count")
EOF
