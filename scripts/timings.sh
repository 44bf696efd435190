#!/usr/bin/env bash
# Where the time goes: `scanwerk ingest --timings` (standard profile) on the benchmark sets, RUNS
# times each; records the CPU share of OCR and of everything else (decode, prepare, encode,
# compose, seal), and each stage's CPU seconds, as medians in benches/results/timings.md.
#
#   scripts/timings.sh                    RUNS=3, the real set and PAGES=20 generated A4 pages
#   RUNS=5 PAGES=200 scripts/timings.sh   (environment variables; OUT=FILE writes elsewhere)
#   REPORT_ONLY=1 scripts/timings.sh      write the table again from the last runs' raw results
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-3}
PAGES=${PAGES:-20}
CORES=${CORES:-$(nproc)}
OUT=${OUT:-$ROOT/benches/results/timings.md}

scripts/setup.sh
cargo build --release -q
BIN=$ROOT/target/release/scanwerk
WORK=$ROOT/target/timings
mkdir -p "$WORK"
source scripts/bench-sets.sh
real_set "$WORK/real"
generated_set "$WORK/generated-$PAGES" "$PAGES"
if [ ! -f "$WORK/keys/signing-key.pem" ]; then
  "$BIN" keygen --out "$WORK/keys" >/dev/null
fi

if [ "${REPORT_ONLY:-0}" != 1 ]; then
: > "$WORK/results.txt"
for r in $(seq 1 "$RUNS"); do
  for set in real "generated-$PAGES"; do
    rm -rf "$WORK/archive"
    mkdir -p "$WORK/archive"
    "$BIN" ingest "$WORK/$set" --archive "$WORK/archive" --key "$WORK/keys/signing-key.pem" \
      --threads "$CORES" --profile standard --timings --quiet >"$WORK/out.txt" 2>"$WORK/stderr.txt" \
      || { cat "$WORK/stderr.txt" >&2; exit 1; }
    # "timings: 7.54 s wall, 12.57 s CPU (3.8 % outside OCR)" and "  ocr  12.084 s CPU  96.2 %"
    grep '^summary:' "$WORK/out.txt" | sed "s/^/$set $r /" >> "$WORK/results.txt"
    sed -n '/^timings:/,$p' "$WORK/out.txt" | sed "s/^/$set $r /" >> "$WORK/results.txt"
    echo "  run $r, $set: $(grep '^timings:' "$WORK/out.txt")" >&2
  done
done
fi

/usr/bin/python3 - "$WORK/results.txt" "$OUT" "$RUNS" "$CORES" "$PAGES" <<'PY'
import datetime, platform, re, statistics, subprocess, sys
results, out, runs, cores, pages = sys.argv[1:]
total, stages, pages_of = {}, {}, {}
for line in open(results):
    set_, run, rest = line.split(" ", 2)
    m = re.match(r"summary: (\d+) pages scanned", rest)
    if m:
        pages_of[set_] = int(m.group(1))
        continue
    m = re.match(r"timings: ([\d.]+) s wall, ([\d.]+) s CPU \(([\d.]+) % outside OCR\)", rest)
    if m:
        total.setdefault(set_, []).append(tuple(float(g) for g in m.groups()))
        continue
    m = re.match(r"\s+(\w+)\s+([\d.]+) s CPU\s+([\d.]+) %", rest)
    if m:
        stages.setdefault((set_, m.group(1)), []).append(float(m.group(2)))
cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip()
tess = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
label = {"real": "real set (the 10 pages of scripts/bench-sets.sh)",
         f"generated-{pages}": f"generated set ({pages} A4 pages of full text, scripts/make-bench-batch.py)"}
with open(out, "w") as f:
    f.write("# Where the time goes: CPU per stage\n\n")
    f.write(f"Recorded by `scripts/timings.sh` (RUNS={runs} PAGES={pages}) on {datetime.date.today()}: "
            f"{cores} cores ({cpu}), {platform.platform()}, {tess}; `scanwerk ingest --timings "
            f"--profile standard --threads {cores}`, release build. Medians of {runs} runs; the "
            f"share outside OCR is given as the median and the range of the runs.\n\n")
    for set_ in total:
        rows = total[set_]
        outside = [r[2] for r in rows]
        f.write(f"## {label[set_]}\n\n")
        f.write(f"- wall {statistics.median(r[0] for r in rows):.2f} s, CPU {statistics.median(r[1] for r in rows):.2f} s\n")
        n = pages_of[set_]
        ocr = statistics.median(stages[(set_, "ocr")])
        f.write(f"- outside OCR: **{statistics.median(outside):.1f} %** of the CPU time "
                f"(runs: {', '.join(f'{o:.1f} %' for o in outside)}); OCR: {100 - statistics.median(outside):.1f} %\n")
        f.write(f"- {n} pages: OCR {ocr / n:.1f} s CPU per page\n\n")
        f.write("| stage | CPU s (median) |\n|---|---:|\n")
        for (s, stage), values in sorted(stages.items()):
            if s == set_:
                f.write(f"| {stage} | {statistics.median(values):.3f} |\n")
        f.write("\n")
print(open(out).read())
PY
