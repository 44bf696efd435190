#!/usr/bin/env bash
# The demo: installs what is missing, builds scanwerk, makes a signing key if there is none,
# ingests the bundled demo batch into ./demo-archive and verifies it against the key.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release
bin=target/release/scanwerk
keys=demo-keys
archive=demo-archive
batch=demo-2026-001

if [ ! -f "$keys/signing-key.pem" ]; then
  "$bin" keygen --out "$keys"
fi
mkdir -p "$archive"
if [ -d "$archive/$batch" ]; then
  echo "demo: removing the previous demo publication $archive/$batch"
  rm -rf "${archive:?}/$batch"
fi
"$bin" ingest testdata/demo-batch --archive "$archive" --key "$keys/signing-key.pem"
"$bin" verify "$archive/$batch" --trust "$keys/signing-key.pub.pem"

echo
echo "Output: $archive/$batch/"
echo "  documents/*.pdf   searchable PDF/A-2b files (try: pdftotext $archive/$batch/documents/bescheid.pdf -)"
echo "  documents/*.json  per-document metadata with hashes"
echo "  protocol.json     scan protocol; manifest.json + manifest.sig: the seal"
echo "First lines recovered from bescheid.pdf:"
pdftotext "$archive/$batch/documents/bescheid.pdf" - | head -3
