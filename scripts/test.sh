#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test and the linter.
# End-to-end tests read ../shared/realscans and use qpdf, pdftotext, pdfimages and openssl as
# independent checkers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The disk-full test needs a small tmpfs it mounts itself (root); where that is not allowed it is
# skipped by name, and said so, rather than passed.
skip=()
probe="$(mktemp -d)"
if mount -t tmpfs -o size=64k tmpfs "$probe" 2>/dev/null; then
  umount "$probe"
else
  echo "SKIPPED: enospc_during_publication_leaves_nothing_visible_and_the_input_intact (cannot mount a tmpfs here)" >&2
  skip=(--skip enospc)
fi
rmdir "$probe"
# Unit tests of the library and the binary, then the e2e tests; the skip goes to the e2e tests
# only. The criterion benches are compiled by clippy below and run by `cargo bench --bench stages`.
cargo test --lib --bins
# Every PDF the e2e tests publish is kept (by content hash) as it was published and checked by
# veraPDF, the reference PDF/A validator, when they are done.
SCANWERK_PDF_COLLECT="$(mktemp -d)"; export SCANWERK_PDF_COLLECT
trap 'rm -rf "$SCANWERK_PDF_COLLECT"' EXIT
cargo test --test e2e -- "${skip[@]}"
scripts/verapdf-all.sh "$SCANWERK_PDF_COLLECT"
cargo clippy --all-targets -- -D warnings
