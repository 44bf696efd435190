#!/usr/bin/env bash
# What the work queue costs: 8 batches of 5 pages (the demo batch, 40 pages, standard profile)
#   local: one `scanwerk run` over the inbox with 2 OCR threads
#   queue: a NATS JetStream server, `scanwerk submit`, two `scanwerk worker`s with 1 thread each,
#          timed from the submit until the eighth input is in done/
# alternated RUNS times (default 5). Writes the medians, the ratio queue/local and the difference
# per batch into the "Work queue" section of benches/results/bench.md.
#   scripts/bench-queue.sh          RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet
BIN="$PWD/target/release/scanwerk"
RUNS=${RUNS:-5}
OUT=${OUT:-benches/results/bench.md}
work=$(mktemp -d)
nats=""
cleanup() { [ -n "$nats" ] && kill "$nats" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$BIN" keygen --out "$work/keys" >/dev/null
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/nats" >/dev/null 2>&1 &
nats=$!
sleep 1
url="nats://127.0.0.1:$port"

inbox() { # inbox DIR RUN: 8 copies of the demo batch with ids unique to the run
  rm -rf "$1" "$work/archive"
  mkdir -p "$1" "$work/archive"
  for i in 1 2 3 4 5 6 7 8; do
    cp -r testdata/demo-batch "$1/b$i"
    sed -i "s/^id = .*/id = \"r$2-$3-b$i\"/" "$1/b$i/batch.toml"
  done
}
now() { date +%s.%N; }

local_s=(); queue_s=()
for r in $(seq 1 "$RUNS"); do
  inbox "$work/inbox" "$r" local
  t0=$(now)
  "$BIN" --quiet run --inbox "$work/inbox" --archive "$work/archive" --key "$work/keys/signing-key.pem" \
    --threads 2 --settle-seconds 0 >/dev/null 2>&1
  local_s+=("$(printf '%.2f' "$(echo "$(now) - $t0" | bc)")")

  inbox "$work/inbox" "$r" queue
  t0=$(now)
  "$BIN" submit "$work"/inbox/b* --queue "$url" >/dev/null
  pids=()
  for w in 1 2; do
    "$BIN" --quiet worker --queue "$url" --archive "$work/archive" --key "$work/keys/signing-key.pem" \
      --threads 1 >/dev/null 2>&1 &
    pids+=($!)
  done
  until [ "$(ls "$work/inbox/done" 2>/dev/null | wc -l)" -ge 8 ]; do sleep 0.05; done
  queue_s+=("$(printf '%.2f' "$(echo "$(now) - $t0" | bc)")")
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  echo "run $r: local ${local_s[-1]} s, queue ${queue_s[-1]} s" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ml=$(median "${local_s[@]}"); mq=$(median "${queue_s[@]}")
ratio=$(printf '%.2f' "$(echo "scale=4; $mq / $ml" | bc)")
per_batch=$(echo "scale=0; ($mq - $ml) * 1000 / 8" | bc)
section=$(cat <<EOF
<!-- queue: written by scripts/bench-queue.sh -->
## Work queue: 8 batches, 40 pages (the demo batch, standard profile)

Recorded by \`scripts/bench-queue.sh\` on $(date +%F), RUNS=$RUNS alternated; nats-server $(nats-server --version | awk '{print $NF}') with JetStream on this host.

| setup | median wall s | runs |
|---|---:|---|
| one \`scanwerk run\`, 2 OCR threads | $ml | ${local_s[*]} |
| \`submit\` + 2 \`scanwerk worker\`s (NATS JetStream), 1 thread each | $mq | ${queue_s[*]} |

Queue / local: **${ratio}×**; difference per batch: **${per_batch} ms** (negative: the queue was faster).
<!-- /queue -->
EOF
)
if grep -q '<!-- queue: written by' "$OUT"; then
  /usr/bin/python3 - "$OUT" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"<!-- queue: written by.*?<!-- /queue -->", lambda _: section, text, flags=re.S)
open(path, "w").write(text)
PY
else
  printf '\n%s\n' "$section" >> "$OUT"
fi
echo "$section"
