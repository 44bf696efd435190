#!/usr/bin/env bash
# veraPDF (../shared/tools/verapdf, PDF/A-2B) over every PDF in a folder, 100 files per JVM:
# exits non-zero, naming the files and rules, if any file fails or cannot be parsed, or if the
# folder holds no PDF at all. scripts/test.sh runs it over every PDF the e2e tests published.
#   scripts/verapdf-all.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$1"
verapdf="../shared/tools/verapdf/verapdf"
mapfile -t pdfs < <(find "$dir" -name '*.pdf' | sort)
if [ "${#pdfs[@]}" -eq 0 ]; then
  echo "verapdf-all: no PDF in $dir" >&2
  exit 1
fi
report="$(mktemp)"; trap 'rm -f "$report"' EXIT
status=0
for ((i = 0; i < ${#pdfs[@]}; i += 100)); do
  "$verapdf" "${pdfs[@]:i:100}" >> "$report" || status=1
done
passed=$(grep -cx PASS "$report" || true)
if [ "$status" -ne 0 ] || [ "$passed" -ne "${#pdfs[@]}" ]; then
  grep -v -x PASS "$report" | grep -B1 -A3 -E '^(FAIL|ERROR|  )' >&2 || true
  echo "verapdf-all: $passed of ${#pdfs[@]} PDFs pass PDF/A-2B" >&2
  exit 1
fi
echo "veraPDF: all ${#pdfs[@]} PDFs the tests published pass PDF/A-2B"
