#!/usr/bin/env bash
# End-to-end speed and memory, side by side on the same inputs, languages (deu+eng) and cores:
#
#   scanwerk ingest (standard profile)   vs  tesseract IMG OUT pdf    over xargs -P <cores>
#                                        vs  OCRmyPDF 17 --output-type pdfa-2 -j1, xargs -P <cores>
#   scanwerk ingest (image-only profile) vs  img2pdf                  over xargs -P <cores>
#
# Inputs: a fixed list of ../shared/realscans pages ("real"), eight pages of other kinds from there
# ("mixed": magazine page with photo, colour photo pages, grey A4, skewed and bordered bilevel
# pages, historic prints; scripts/bench-sets.sh) and a generated batch of $PAGES A4 pages
# ("generated", scripts/make-bench-batch.py). Runs are alternated (tool A, B, C, A, B, C …),
# $RUNS times; the table gives medians of wall time, CPU time (user + sys), peak RSS and output
# bytes, and the ratio of wall time to the peer. Installs what it needs: Debian packages via
# setup.sh, ghostscript, and OCRmyPDF 17 + img2pdf from PyPI into target/ocrmypdf-venv.
#
#   scripts/bench.sh                 RUNS=3 PAGES=200, writes benches/results/bench.md
#   RUNS=5 PAGES=50 scripts/bench.sh OUT=/tmp/b.md   (environment variables)
#   SETS="real" scripts/bench.sh     only the real scans
#   TOOLS="scanwerk tesseract" …      only these tools (peers of a tool must be among them)
#   KEEP=1 …                         add to the previous results instead of starting afresh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
PAGES=${PAGES:-200}
CORES=${CORES:-$(nproc)}
SETS=${SETS:-real mixed generated}
TOOLS=${TOOLS:-scanwerk tesseract ocrmypdf scanwerk-image-only img2pdf}
OUT=${OUT:-$ROOT/benches/results/bench.md}
PY=/usr/bin/python3

scripts/setup-peers.sh
VENV=$ROOT/target/ocrmypdf-venv
cargo build --release -q
BIN=$ROOT/target/release/scanwerk

WORK=$ROOT/target/bench
mkdir -p "$WORK"
source scripts/bench-sets.sh
real_set "$WORK/real"
mixed_set "$WORK/mixed"
GEN=$WORK/generated-$PAGES
if [[ " $SETS " == *" generated "* ]]; then generated_set "$GEN" "$PAGES"; fi
if [ ! -f "$WORK/keys/signing-key.pem" ]; then
  "$BIN" keygen --out "$WORK/keys" >/dev/null
fi

set_dir() { case $1 in real | mixed) echo "$WORK/$1" ;; *) echo "$GEN" ;; esac; }
images() { find "$1" -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.tif' -o -iname '*.tiff' \) | sort; }

# run TOOL SET: one measured run into $WORK/out; appends "tool set wall cpu rss bytes" to results.
run() {
  local tool=$1 set=$2 dir out
  dir=$(set_dir "$set")
  out=$WORK/out
  rm -rf "$out"
  mkdir -p "$out"
  local cmd
  case $tool in
    scanwerk) cmd="'$BIN' ingest '$dir' --archive '$out' --key '$WORK/keys/signing-key.pem' --threads $CORES --profile standard" ;;
    scanwerk-image-only) cmd="'$BIN' ingest '$dir' --archive '$out' --key '$WORK/keys/signing-key.pem' --threads $CORES --profile image-only" ;;
    tesseract) cmd="images '$dir' | xargs -P $CORES -n 1 sh -c 'OMP_THREAD_LIMIT=1 tesseract \"\$1\" \"$out/\$(echo \"\$1\" | tr / _)\" -l deu+eng pdf 2>/dev/null' _" ;;
    ocrmypdf) cmd="images '$dir' | xargs -P $CORES -n 1 sh -c 'OMP_THREAD_LIMIT=1 \"$VENV/bin/ocrmypdf\" -q --output-type pdfa-2 -j 1 -l deu+eng --image-dpi 300 \"\$1\" \"$out/\$(echo \"\$1\" | tr / _).pdf\"' _" ;;
    img2pdf) cmd="images '$dir' | xargs -P $CORES -n 1 sh -c '\"$VENV/bin/img2pdf\" \"\$1\" -o \"$out/\$(echo \"\$1\" | tr / _).pdf\"' _" ;;
  esac
  export -f images
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" bash -c "$cmd" >/dev/null 2>"$WORK/stderr.txt" || {
    echo "bench: $tool on $set failed:" >&2
    cat "$WORK/stderr.txt" >&2
    exit 1
  }
  read -r wall user sys rss < <(tail -1 "$WORK/time.txt")
  bytes=$(du -sb "$out" | cut -f1)
  echo "$tool $set $wall $(awk "BEGIN{print $user + $sys}") $rss $bytes" >> "$WORK/results.txt"
  echo "  $tool on $set: ${wall}s wall, $(awk "BEGIN{print $user + $sys}")s CPU, $((rss / 1024)) MiB peak" >&2
}

[ "${KEEP:-0}" = 1 ] || : > "$WORK/results.txt"
for r in $(seq 1 "$RUNS"); do
  echo "bench: run $r of $RUNS" >&2
  for set in $SETS; do
    for tool in $TOOLS; do
      run "$tool" "$set"
    done
  done
done

pages_of() { images "$(set_dir "$1")" | xargs -n 1 $PY -c 'import sys; from PIL import Image; im = Image.open(sys.argv[1]); print(getattr(im, "n_frames", 1))' | awk "{s += \$1} END {print s}"; }
{
  echo "real $(pages_of real)"
  echo "mixed $(pages_of mixed)"
  if [ -f "$GEN/batch.toml" ]; then echo "generated $(pages_of generated)"; fi
} > "$WORK/pages.txt"

$PY - "$WORK/results.txt" "$WORK/pages.txt" "$OUT" "$RUNS" "$CORES" "$PAGES" <<'EOF'
import os, platform, statistics, subprocess, sys, datetime
results, pages_file, out, runs, cores, gen_pages = sys.argv[1:]
rows = {}
for line in open(results):
    tool, set_, wall, cpu, rss, size = line.split()
    rows.setdefault((tool, set_), []).append((float(wall), float(cpu), int(rss), int(size)))
counts = sorted({len(v) for v in rows.values()})
runs = "–".join(str(c) for c in (counts[0], counts[-1]) if c) if len(counts) > 1 else str(counts[0]) if counts else runs
pages = dict(l.split() for l in open(pages_file))
def med(key, i):
    return statistics.median(r[i] for r in rows[key])
peer = {"scanwerk": "tesseract", "ocrmypdf": "tesseract", "tesseract": "tesseract",
        "scanwerk-image-only": "img2pdf", "img2pdf": "img2pdf"}
what = {
    "scanwerk": "scanwerk ingest, standard profile (orientation, deskew, OCR, PDF/A-2b, hashes, hash tree, signatures)",
    "tesseract": "`tesseract IMG OUT -l deu+eng pdf` over xargs -P, OMP_THREAD_LIMIT=1",
    "ocrmypdf": "OCRmyPDF 17 `--output-type pdfa-2 -j 1` over xargs -P",
    "scanwerk-image-only": "scanwerk ingest, image-only profile (no OCR; PDF/A-2b, seal)",
    "img2pdf": "img2pdf over xargs -P (plain PDF, no OCR)",
}
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
with open(out, "w") as f:
    f.write("# End-to-end speed and memory: scanwerk vs tesseract CLI, OCRmyPDF, img2pdf\n\n")
    f.write(f"Recorded by `scripts/bench.sh` on {datetime.date.today()}: {cores} cores ({cpu}), "
            f"{mem:.0f} GiB, {platform.platform()}, {tess}, languages deu+eng. Medians of {runs} "
            f"alternated runs; every tool gets the same files and {cores} parallel workers.\n\n")
    for set_ in [s for s in ("real", "mixed", "generated") if any(k[1] == s for k in rows)]:
        n = int(pages[set_])
        label = {"real": "real scans (../shared/realscans)",
                 "mixed": "mixed real pages (../shared/realscans: magazine, photos, grey, skewed, historic)"}.get(
                     set_, f"generated batch ({gen_pages} A4 pages at 300 dpi, G4 TIFF and grey JPEG)")
        f.write(f"## {label}: {n} pages\n\n")
        f.write("| tool | wall s | CPU s | pages/s | peak RSS MiB | output MiB | wall vs peer |\n|---|---:|---:|---:|---:|---:|---:|\n")
        for tool in ("scanwerk", "tesseract", "ocrmypdf", "scanwerk-image-only", "img2pdf"):
            if (tool, set_) not in rows:
                continue
            wall, c, rss, size = (med((tool, set_), i) for i in range(4))
            ref = med((peer[tool], set_), 0)
            f.write(f"| {what[tool]} | {wall:.2f} | {c:.2f} | {n / wall:.2f} | {rss / 1024:.0f} | "
                    f"{size / 2**20:.1f} | {wall / ref:.2f}× {peer[tool]} |\n")
        f.write("\n")
print(open(out).read())
EOF
