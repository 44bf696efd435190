#!/usr/bin/env bash
# Compares what two scanwerk binaries publish from the same input: the demo batch (PAdES-signed)
# and every image of ../shared/realscans as a document of its own. Prints the SHA-256 of every
# PDF and of every document record (without its `proof`, which depends on the protocol's real
# times) for each, and exits non-zero if any differs. For refactorings that must not change a byte.
#   scripts/same-output.sh BEFORE_BINARY AFTER_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
before="$(realpath "$1")"; after="$(realpath "$2")"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
"$before" keygen --out "$work/keys" --cert --name "same-output" >/dev/null
mkdir -p "$work/realscans"
(cd ../shared/realscans && find . -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.tif' -o -iname '*.tiff' \) | sort) |
  while read -r f; do cp "../shared/realscans/$f" "$work/realscans/$(echo "${f#./}" | tr / _)"; done
printf 'id = "realscans-all"\noperator = "Test Operator"\nscanned = "2026-11-20T09:30:00+01:00"\n' > "$work/realscans/batch.toml"
digests() { # ARCHIVE BATCH-ID: "sha256  file" for every PDF and every record without its proof
  local dir="$1/$2/data/documents"
  for f in "$dir"/*.pdf; do echo "$(sha256sum < "$f" | cut -c1-64)  $2/$(basename "$f")"; done
  for f in "$dir"/*.json; do
    echo "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("proof",None); sys.stdout.write(json.dumps(d,sort_keys=True))' "$f" | sha256sum | cut -c1-64)  $2/$(basename "$f") (without proof)"
  done
}
for side in before after; do
  bin="${!side}"; mkdir -p "$work/$side"
  OMP_THREAD_LIMIT=1 "$bin" --quiet ingest testdata/demo-batch --archive "$work/$side" \
    --key "$work/keys/signing-key.pem" --cert "$work/keys/signing-cert.pem" >/dev/null
  OMP_THREAD_LIMIT=1 "$bin" --quiet ingest "$work/realscans" --archive "$work/$side" --key "$work/keys/signing-key.pem" >/dev/null
  { digests "$work/$side" demo-2026-001; digests "$work/$side" realscans-all; } > "$work/$side.sha256"
done
echo "same-output: $(wc -l < "$work/before.sha256") files compared"
if diff "$work/before.sha256" "$work/after.sha256"; then
  echo "same-output: identical"
  cat "$work/after.sha256"
else
  echo "same-output: DIFFERENT" >&2; exit 1
fi
