#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test and the linter.
# End-to-end tests read ../shared/realscans and use qpdf, pdftotext, pdfimages and openssl as
# independent checkers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --all-targets
cargo clippy --all-targets -- -D warnings
