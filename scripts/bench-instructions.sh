#!/usr/bin/env bash
# Instructions per page kind, counted by valgrind's callgrind: repeatable where wall time on these
# machines is not. One page of each kind (the mixed set of scripts/bench-sets.sh, and two pages of
# the real set) goes through
#
#   scanwerk ingest PAGE --threads 1 --profile standard      (one page as its own batch)
#   tesseract PAGE OUT -l deu+eng pdf                         (the CLI, OMP_THREAD_LIMIT=1)
#
# and the table gives, per page and tool, all instructions of the process and those inside
# tesseract's model loading (TessBaseAPI::Init), recognition (TessBaseAPI::Recognize, with the
# number of calls), orientation detection (DetectOrientationScript) and leptonica's skew
# measurement and rotation. Writes benches/results/instructions.md, followed by the explanations
# kept in benches/results/instructions-notes.md.
#
#   scripts/bench-instructions.sh                 every page, two at a time
#   PAGES="ocrmypdf/skew-1.png" scripts/bench-instructions.sh    only these (relative to realscans)
#   JOBS=1 …                                      one valgrind at a time
#   TOOLS=scanwerk …                              count only scanwerk again (the CLI's files kept)
#   REPORT_ONLY=1 …                               the table again from the kept callgrind files
#
# A page takes 3–8 minutes under callgrind; the whole set about half an hour on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/benches/results/instructions.md}
JOBS=${JOBS:-$(nproc)}
TOOLS=${TOOLS:-tesseract scanwerk}
source scripts/bench-sets.sh
PAGES=${PAGES:-"${MIXED_SET[*]} tesseract-ocr-test/eurotext.tif ocrmypdf/linn.png"}

scripts/setup.sh
command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null
cargo build --release -q
BIN=$ROOT/target/release/scanwerk
WORK=$ROOT/target/instructions
mkdir -p "$WORK"
[ -f "$WORK/keys/signing-key.pem" ] || "$BIN" keygen --out "$WORK/keys" >/dev/null

# count TOOL PAGE: one callgrind run, kept as $WORK/TOOL-NAME.out.
count() {
  local tool=$1 page=$2 name dir
  name=${page//\//__}
  dir=$WORK/run-$tool-$name
  rm -rf "$dir"
  copy_set "$dir/batch" instructions "$page"
  mkdir -p "$dir/archive"
  local cmd
  case $tool in
    scanwerk) cmd=("$BIN" ingest "$dir/batch" --archive "$dir/archive" --key "$WORK/keys/signing-key.pem"
                   --threads 1 --profile standard --quiet) ;;
    tesseract) cmd=(tesseract "$dir/batch/$name" "$dir/out" -l deu+eng pdf) ;;
  esac
  OMP_THREAD_LIMIT=1 valgrind --tool=callgrind --callgrind-out-file="$WORK/$tool-$name.out" \
    "${cmd[@]}" >"$dir/log" 2>&1 || { echo "bench-instructions: $tool on $page failed" >&2; tail "$dir/log" >&2; exit 1; }
  rm -rf "$dir"
  echo "  $tool $page done" >&2
}
export -f count copy_set
export WORK BIN REALSCANS_DIR

if [ "${REPORT_ONLY:-0}" != 1 ]; then
  for page in $PAGES; do
    for tool in $TOOLS; do echo "$tool $page"; done
  done | xargs -P "$JOBS" -L 1 bash -c 'count "$0" "$1"'
fi

/usr/bin/python3 - "$WORK" "$OUT" $PAGES <<'EOF'
import datetime, os, re, subprocess, sys
work, out, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
# Inclusive instructions of the functions whose names start with these (demangled, as callgrind
# names them), and how often they were called.
# A part may sum several functions (none of them calls another).
PARTS = [
    ("init", ["tesseract::TessBaseAPI::Init("]),
    ("recognize", ["tesseract::TessBaseAPI::Recognize("]),
    ("osd", ["tesseract::TessBaseAPI::DetectOrientationScript("]),
    ("skew", ["pixConvertTo1", "pixFindSkew"]),
    ("rotate", ["pixRotate"]),
]
# Parts inside recognition, shown but not subtracted: tesseract's line images written to memory
# and read back (PNG in the CLI, SPIX in scanwerk: src/ocr/line_images.rs). "pixWriteMem" also
# names pixWriteMemPng and the like, which it calls: the largest inclusive count, its own, is taken.
INSIDE = [("lines", ["pixWriteMem", "pixReadMemPng", "pixReadMemSpix"])]

def measure(path):
    text = open(path, errors="replace").read()
    total = int(re.search(r"^(?:summary|totals): (\d+)", text, re.M).group(1))
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--auto=no", path],
        capture_output=True, text=True, check=True).stdout
    parts = {}
    for name, prefixes in PARTS + INSIDE:
        parts[name] = 0
        for prefix in prefixes:
            best = 0
            for line in annotated.splitlines():
                m = re.match(r"\s*([\d,]+)\s.*?:(\S.*?)(?: \[|$)", line)
                if m and m.group(2).startswith(prefix):
                    best = max(best, int(m.group(1).replace(",", "")))
            parts[name] += best
    # Calls of Recognize: the "calls=N" lines in front of a call to it.
    calls = 0
    fn_ids = set(re.findall(r"^c?fn=\((\d+)\) tesseract::TessBaseAPI::Recognize\(", text, re.M))
    for fid in fn_ids:
        calls += sum(int(n) for n in re.findall(r"^cfn=\(%s\)(?: [^\n]*)?\ncalls=(\d+)" % fid, text, re.M))
    parts["calls"] = calls
    return total, parts

def g(n):
    return f"{n / 1e9:.2f}"

rows = []
for page in pages:
    name = page.replace("/", "__")
    try:
        cli_total, cli = measure(f"{work}/tesseract-{name}.out")
        sw_total, sw = measure(f"{work}/scanwerk-{name}.out")
    except FileNotFoundError:
        continue
    rows.append((page, cli_total, cli, sw_total, sw))

with open(out, "w") as f:
    f.write("# Instructions per page kind: scanwerk vs the tesseract CLI\n\n")
    f.write(f"Recorded by `scripts/bench-instructions.sh` on {datetime.date.today()} (valgrind "
            "callgrind; tesseract 5.3.0, deu+eng, one thread). Each page is its own run: `scanwerk "
            "ingest PAGE --threads 1 --profile standard` (a one-page batch, sealed) and `tesseract "
            "PAGE OUT -l deu+eng pdf`. Billions of instructions (Ir); *init* = loading the models "
            "(TessBaseAPI::Init, inclusive), *recognize* = TessBaseAPI::Recognize inclusive (calls), "
            "*osd* = orientation detection, *skew* = leptonica's binarisation and skew search, *rotate* = "
            "its rotation of the OCR copy, "
            "*rest* = the process outside those.\n\n")
    f.write("| page | tool | total | init | recognize (calls) | of which lines | osd | skew | rotate | rest | recognize vs CLI |\n")
    f.write("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for page, cli_total, cli, sw_total, sw in rows:
        for tool, total, p in (("tesseract CLI", cli_total, cli), ("scanwerk", sw_total, sw)):
            rest = total - p["init"] - p["recognize"] - p["osd"] - p["skew"] - p["rotate"]
            ratio = p["recognize"] / cli["recognize"] if cli["recognize"] else 0
            f.write(f"| {page} | {tool} | {g(total)} | {g(p['init'])} | {g(p['recognize'])} ({p['calls']}) | {g(p['lines'])} "
                    f"| {g(p['osd'])} | {g(p['skew'])} | {g(p['rotate'])} | {g(rest)} | {ratio:.2f}× |\n")
    if rows:
        cli_all = sum(r[1] for r in rows)
        sw_all = sum(r[3] for r in rows)
        f.write(f"\nAll pages: scanwerk {g(sw_all)} vs CLI {g(cli_all)} billion instructions "
                f"(**{sw_all / cli_all:.2f}×**); without model loading "
                f"{g(sw_all - sum(r[4]['init'] for r in rows))} vs "
                f"{g(cli_all - sum(r[2]['init'] for r in rows))} "
                f"(**{(sw_all - sum(r[4]['init'] for r in rows)) / (cli_all - sum(r[2]['init'] for r in rows)):.2f}×**).\n")
notes = os.path.join(os.path.dirname(out), "instructions-notes.md")
if os.path.exists(notes):
    with open(out, "a") as f:
        f.write("\n" + open(notes).read())
print(open(out).read())
EOF
