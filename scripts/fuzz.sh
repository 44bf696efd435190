#!/usr/bin/env bash
# Fuzzes scanwerk's readers of untrusted bytes with cargo-fuzz (libFuzzer, nightly toolchain):
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 600 s, every target)
#
# Targets (fuzz/fuzz_targets/, each calling one function of src/fuzzing.rs): tiff, png, jpeg, pdf
# (a scan file read, counted and its first pages decoded within the default input limits),
# batch_sheet, profile, journal, verify (manifest, hash tree, protocol, record and bag files of a
# published batch, one replaced per input). Seeds: the small files of testdata/ and
# ../shared/realscans, the bundled profiles and sheets, a published demo batch; copied into
# fuzz/corpus/ (not committed), together with every input kept in fuzz/regressions/.
#
# A crash, a hang (> 10 s per input) or more than 2 GiB of memory stops the target; libFuzzer
# writes the input to fuzz/artifacts/TARGET/. Fix the bug, then keep the input as
# fuzz/regressions/TARGET/NAME: the normal suite (scripts/test.sh) replays every file there.
# A summary per target (time, executions, corpus size, findings) goes to fuzz/work/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
seconds="${1:-600}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tiff png jpeg pdf batch_sheet profile journal verify)

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: cargo-fuzz needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# No sanitizer: the readers are safe Rust; libFuzzer still finds panics (debug assertions on,
# overflow checks included), hangs and memory blow-ups.
fuzz=(cargo +nightly fuzz)
build=(--sanitizer none -O)
(cd fuzz && "${fuzz[@]}" build "${build[@]}")

shared="$(cd .. && pwd)/shared/realscans"
work="$PWD/fuzz/work"
mkdir -p "$work"
small() { find "$@" -type f -size -256k 2>/dev/null || true; }
seed() { # seed TARGET FILE...
  local dir="fuzz/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do cp -f "$f" "$dir/$(sha256sum "$f" | cut -c1-16)"; done
}
mapfile -t tiffs < <(small testdata "$shared" | grep -iE '\.tiff?$')
mapfile -t pngs < <(small testdata "$shared" | grep -iE '\.png$')
mapfile -t jpegs < <(small testdata "$shared" | grep -iE '\.jpe?g$')
mapfile -t pdfs < <(small testdata "$shared" | grep -iE '\.pdf$')
seed tiff "${tiffs[@]}"
seed png "${pngs[@]}"
seed jpeg "${jpegs[@]}"
seed pdf "${pdfs[@]}"
seed batch_sheet $(find testdata -name batch.toml)
seed profile profiles/*.toml
printf '%s\n' '{"document":"akte","context":"c0ffee","sources":[["akte/1.tif","ab12"]],"pdf_sha256":"00","record_sha256":"11"}' \
  > "$work/journal.jsonl"
seed journal "$work/journal.jsonl"

# A published batch for the verify target, made by this checkout's scanwerk.
cargo build --quiet
batch="$work/archive/demo-2026-001"
if [ ! -d "$batch" ]; then
  rm -rf "$work/keys" "$work/archive"
  mkdir -p "$work/archive"
  target/debug/scanwerk keygen --out "$work/keys" --cert >/dev/null
  target/debug/scanwerk ingest testdata/demo-batch --archive "$work/archive" \
    --key "$work/keys/signing-key.pem" --cert "$work/keys/signing-cert.pem" >/dev/null 2>&1
fi
export SCANWERK_FUZZ_BATCH="$batch"
files=(data/manifest.json data/hashtree.json data/protocol.json data/documents/akte.json
  manifest-sha256.txt bag-info.txt tagmanifest-sha256.txt)
for i in "${!files[@]}"; do
  { printf "\\x$(printf %02x "$i")"; cat "$batch/${files[$i]}"; } > "$work/verify-$i"
  seed verify "$work/verify-$i"
done
for t in "${targets[@]}"; do
  [ -d "fuzz/regressions/$t" ] && seed "$t" fuzz/regressions/"$t"/*
done

summary="$work/summary.txt"
: > "$summary"
status=0
for t in "${targets[@]}"; do
  log="$work/$t.log"
  echo "fuzz: $t for ${seconds}s" >&2
  started=$(date +%s)
  if (cd fuzz && "${fuzz[@]}" run "${build[@]}" "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
      -print_final_stats=1) > "$log" 2>&1; then
    verdict="no finding"
  else
    verdict="FINDING: see $log and fuzz/artifacts/$t/"
    status=1
  fi
  # libFuzzer's own count and time ("Done N runs in S second(s)"); the wall time includes the
  # rebuild of the fuzz crate when sources changed.
  done_line=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 || true)
  runs=$(awk '{print $2}' <<<"$done_line")
  fuzzed=$(awk '{print $5}' <<<"$done_line")
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  printf '%-12s %5ss fuzzing (%5ss wall)  %10s executions  corpus %5s  %s\n' "$t" "${fuzzed:-?}" \
    "$(( $(date +%s) - started ))" "${runs:-?}" "$corpus" "$verdict" | tee -a "$summary"
done
rm -rf /tmp/scanwerk-fuzz-* 2>/dev/null || true
exit "$status"
