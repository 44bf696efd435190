#!/usr/bin/env bash
# Scanner PDFs against the same pages as image files: scanwerk ingest (standard profile) on the
# generated batch (G4 TIFFs and folders of grey JPEGs, scripts/make-bench-batch.py) and on the same
# documents wrapped into PDFs by img2pdf (which keeps the G4 and JPEG streams as they are), runs
# alternated, medians of wall and CPU time per page into benches/results/pdf-input.md.
#
#   scripts/bench-pdf-input.sh             RUNS=3 PAGES=20
#   RUNS=5 PAGES=40 scripts/bench-pdf-input.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
PAGES=${PAGES:-20}
CORES=${CORES:-$(nproc)}
OUT=${OUT:-$ROOT/benches/results/pdf-input.md}

scripts/setup-peers.sh
cargo build --release -q
BIN=$ROOT/target/release/scanwerk
VENV=$ROOT/target/ocrmypdf-venv
WORK=$ROOT/target/bench-pdf-input
mkdir -p "$WORK"
source scripts/bench-sets.sh
generated_set "$WORK/images-$PAGES" "$PAGES"
PDFS=$WORK/pdfs-$PAGES
if [ ! -f "$PDFS/batch.toml" ]; then
  rm -rf "$PDFS"
  mkdir -p "$PDFS"
  for doc in "$WORK/images-$PAGES"/*; do
    name=$(basename "$doc")
    case $name in
      batch.toml) cp "$doc" "$PDFS/" ;;
      *.tif) "$VENV/bin/img2pdf" "$doc" -o "$PDFS/${name%.tif}.pdf" ;;
      *) "$VENV/bin/img2pdf" $(ls "$doc"/*.jpg | sort) -o "$PDFS/$name.pdf" ;;
    esac
  done
fi
if [ ! -f "$WORK/keys/signing-key.pem" ]; then
  "$BIN" keygen --out "$WORK/keys" >/dev/null
fi

: > "$WORK/results.txt"
for r in $(seq 1 "$RUNS"); do
  for set in "images-$PAGES" "pdfs-$PAGES"; do
    rm -rf "$WORK/archive"
    mkdir -p "$WORK/archive"
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" \
      "$BIN" ingest "$WORK/$set" --archive "$WORK/archive" --key "$WORK/keys/signing-key.pem" \
      --threads "$CORES" --profile standard --quiet >"$WORK/out.txt" 2>"$WORK/stderr.txt" \
      || { cat "$WORK/stderr.txt" >&2; exit 1; }
    read -r wall user sys rss < <(tail -1 "$WORK/time.txt")
    pages=$(sed -n 's/^summary: \([0-9]*\) pages scanned.*/\1/p' "$WORK/out.txt")
    echo "${set%-*} $wall $(awk "BEGIN{print $user + $sys}") $rss $pages" >> "$WORK/results.txt"
    echo "  run $r, ${set%-*}: ${wall}s wall, $pages pages" >&2
  done
done

/usr/bin/python3 - "$WORK/results.txt" "$OUT" "$RUNS" "$CORES" "$PAGES" <<'PY'
import datetime, platform, statistics, subprocess, sys
results, out, runs, cores, pages = sys.argv[1:]
rows = {}
for line in open(results):
    kind, wall, cpu, rss, n = line.split()
    rows.setdefault(kind, []).append((float(wall), float(cpu), int(rss), int(n)))
cpu_name = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip()
med = lambda k, i: statistics.median(r[i] for r in rows[k])
base = med("images", 0)
with open(out, "w") as f:
    f.write("# Scanner PDFs against the same pages as image files\n\n")
    f.write(f"Recorded by `scripts/bench-pdf-input.sh` (RUNS={runs} PAGES={pages}) on {datetime.date.today()}: "
            f"{cores} cores ({cpu_name}), {platform.platform()}; `scanwerk ingest --profile standard "
            f"--threads {cores}`, release build. The PDFs are the generated batch's documents wrapped by "
            f"img2pdf (G4 and JPEG streams unchanged). Medians of {runs} alternated runs.\n\n")
    f.write("| input | pages | wall s | CPU s | wall s per page | peak RSS MiB | wall vs images |\n|---|---:|---:|---:|---:|---:|---:|\n")
    for kind in ("images", "pdfs"):
        n = rows[kind][0][3]
        wall = med(kind, 0)
        f.write(f"| {kind} | {n} | {wall:.2f} | {med(kind, 1):.2f} | {wall / n:.2f} | {med(kind, 2) / 1024:.0f} | {wall / base:.2f}× |\n")
print(open(out).read())
PY
