#!/usr/bin/env bash
# The demo: installs what is missing, builds scanwerk, makes a signing key with a self-signed test
# certificate if there is none, ingests the bundled demo batch into ./demo-archive (every PDF
# PAdES-signed) and verifies it against the key; poppler's pdfsig checks one PDF signature.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release
bin=target/release/scanwerk
keys=demo-keys
archive=demo-archive
batch=demo-2026-001

if [ ! -f "$keys/signing-cert.pem" ]; then
  # Demo keys only: made again if an older demo left a key without a certificate.
  rm -rf "$keys"
  "$bin" keygen --out "$keys" --cert --name "Erika Mustermann (Demo)"
fi
mkdir -p "$archive"
if [ -d "$archive/$batch" ]; then
  echo "demo: removing the previous demo publication $archive/$batch"
  rm -rf "${archive:?}/$batch"
fi
"$bin" ingest testdata/demo-batch --archive "$archive" --key "$keys/signing-key.pem" \
  --cert "$keys/signing-cert.pem"
"$bin" verify "$archive/$batch" --trust "$keys/signing-key.pub.pem"
echo
echo "pdfsig on bescheid.pdf (the self-signed demo certificate is unknown to poppler's trust store):"
pdfsig "$archive/$batch/data/documents/bescheid.pdf" | grep -E "Signer Certificate Common Name|Signature Type|Total document|Signature Validation"

echo
echo "Output: $archive/$batch/ (a BagIt 1.0 bag: bagit.txt, bag-info.txt, manifest-*.txt beside data/)"
echo "  data/documents/*.pdf       searchable PDF/A-2b files (try: pdftotext $archive/$batch/data/documents/bescheid.pdf -)"
echo "  data/documents/*.json      per-document metadata with hashes; *.alto.xml the full text as ALTO 4"
echo "  data/protocol.json         scan protocol with the transfer note"
echo "  data/hashtree.json/.sig    hash tree over PDFs and protocol, root signed; manifest.json + .sig: the seal"
echo "First lines recovered from bescheid.pdf:"
pdftotext "$archive/$batch/data/documents/bescheid.pdf" - | head -3
