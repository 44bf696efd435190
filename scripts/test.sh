#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test and the linter.
# End-to-end tests read ../shared/realscans and use qpdf, pdftotext, pdfimages and openssl as
# independent checkers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A first build (a fresh clone, CI) gains nothing from incremental compilation, only its
# bookkeeping; later builds keep it.
if [ ! -d target/debug ]; then export CARGO_INCREMENTAL=0; fi
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
# Unit tests of the library (the binary has none: its commands are tested end to end), then the
# e2e tests; the skip goes to the e2e tests only. The criterion benches are compiled by clippy
# below and run by `cargo bench --bench stages`.
cargo test --lib
# Every PDF the e2e tests publish is kept (by content hash) as it was published and checked by
# veraPDF, the reference PDF/A validator, when they are done.
SCANWERK_PDF_COLLECT="$(mktemp -d)"; export SCANWERK_PDF_COLLECT
# The Debian package, installed into a clean Debian 12 root (scripts/test-package.sh), runs
# beside the e2e tests: it mostly waits for the Debian mirror and dpkg. It packages the binary the
# e2e tests run (their build, target/debug/scanwerk), so the binary is built once, not also in the
# dev profile, whose artifacts the test profile does not share (2 minutes from a fresh clone).
cargo test --test e2e --no-run --quiet
package_log="$(mktemp)"
BIN=target/debug/scanwerk scripts/test-package.sh > "$package_log" 2>&1 &
package=$!
trap 'rm -rf "$SCANWERK_PDF_COLLECT" "$package_log"; kill "$package" 2>/dev/null || true' EXIT
cargo test --test e2e -- "${skip[@]}"
if ! wait "$package"; then
  cat "$package_log" >&2
  echo "FAILED: scripts/test-package.sh" >&2
  exit 1
fi
grep -E "^(package|SKIPPED)" "$package_log" >&2 || true
scripts/verapdf-all.sh "$SCANWERK_PDF_COLLECT"
cargo clippy --all-targets -- -D warnings
