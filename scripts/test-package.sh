#!/usr/bin/env bash
# Tests the Debian package as a data centre installs it: builds it (scripts/package.sh), checks it
# with lintian (no errors), then installs it into a clean Debian 12 root made with debootstrap
# (Debian's mirror must be reachable) and there: `scanwerk --version`, `man scanwerk`,
# `scanwerk profiles`, an ingest of the demo batch as the scanwerk user, `systemd-analyze verify`
# of both units; then purges it and checks that no file of the package is left and that inbox,
# archive and keys are untouched. Where debootstrap cannot run (no root, no mirror), it says so and
# checks the package with lintian and `dpkg-deb --contents` only.
#   scripts/test-package.sh            (ROOT=/path reuses a debootstrapped root;
#                                       PROFILE=debug packages the test build; BIN=path packages
#                                       that binary, as test.sh does with the e2e tests' one)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/package.sh >/dev/null   # PROFILE, BIN: see above
deb=$(ls target/debian/scanwerk_*.deb | tail -1)
for p in lintian debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || { apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }
done

echo "package: lintian $deb" >&2
lintian --fail-on error "$deb"
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for f in ./usr/bin/scanwerk ./usr/share/man/man1/scanwerk.1.gz ./usr/share/bash-completion/completions/scanwerk \
  ./usr/share/zsh/vendor-completions/_scanwerk ./usr/share/fish/vendor_completions.d/scanwerk.fish \
  ./usr/share/scanwerk/profiles/standard.toml ./usr/share/scanwerk/batch.toml.example \
  ./usr/lib/systemd/system/scanwerk-watch.service ./usr/lib/systemd/system/scanwerk-worker.service; do
  grep -qx "$f" <<<"$contents" || { echo "package: $f missing from $deb" >&2; exit 1; }
done
systemd-analyze verify --man=no deploy/systemd/scanwerk-watch.service deploy/systemd/scanwerk-worker.service 2>&1 \
  | grep -v "is not executable" | grep -v "^$" && { echo "package: systemd-analyze found problems" >&2; exit 1; } || true

root=${ROOT:-$(mktemp -d /var/tmp/scanwerk-root.XXXXXX)}
chmod 755 "$root"
cleanup() { umount "$root/proc" 2>/dev/null || true; [ -z "${ROOT:-}" ] && rm -rf "$root" "$root.log"; }
trap cleanup EXIT
if [ ! -x "$root/usr/bin/apt-get" ]; then
  echo "package: debootstrap bookworm into $root" >&2
  if ! debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$root.log" 2>&1; then
    echo "SKIPPED (clean root): debootstrap cannot run here ($(tail -1 "$root.log")); checked with lintian and dpkg-deb --contents only" >&2
    exit 0
  fi
fi
mount -t proc proc "$root/proc"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
cp "$deb" "$root/tmp/scanwerk.deb"
before=$(mktemp); after=$(mktemp)
in_root find / -xdev \( -path /proc -o -path /run -o -path /tmp -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \) -prune -o -print | sort > "$before"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends man-db systemd >/dev/null
in_root find / -xdev \( -path /proc -o -path /run -o -path /tmp -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \) -prune -o -print | sort > "$before"
in_root apt-get install -y -qq --no-install-recommends /tmp/scanwerk.deb >/dev/null
in_root scanwerk --version
in_root man -P cat scanwerk > "$root/tmp/man.txt"
grep -q "scanwerk-ingest" "$root/tmp/man.txt" || { echo "package: man scanwerk lacks the subcommands" >&2; exit 1; }
in_root scanwerk profiles > "$root/tmp/profiles.txt"
grep -q "^standard" "$root/tmp/profiles.txt"
in_root systemd-analyze verify --man=no /usr/lib/systemd/system/scanwerk-watch.service /usr/lib/systemd/system/scanwerk-worker.service
# The demo batch, ingested as the service user with a key only it can read.
mkdir -p "$root/srv/scan/inbox" "$root/srv/archive"
cp -r testdata/demo-batch "$root/srv/scan/demo"
in_root chown -R scanwerk:scanwerk /srv/scan /srv/archive
in_root su -s /bin/sh scanwerk -c "scanwerk keygen --out /etc/scanwerk/keys/demo >/dev/null && \
  scanwerk ingest /srv/scan/demo --archive /srv/archive --key /etc/scanwerk/keys/demo/signing-key.pem && \
  scanwerk verify /srv/archive/demo-2026-001" >/dev/null
[ "$(in_root stat -c %U:%a /etc/scanwerk/keys)" = "scanwerk:700" ] || { echo "package: /etc/scanwerk/keys is not scanwerk's alone" >&2; exit 1; }
# Purge: every file of the package goes (and, with the dependencies it pulled in, the root is
# as before); the evidence stays.
in_root dpkg -L scanwerk > "$root/tmp/files.txt"
in_root apt-get purge -y -qq scanwerk >/dev/null
while read -r f; do
  if [ -e "$root$f" ] && [ ! -d "$root$f" ]; then echo "package: $f left after purge" >&2; exit 1; fi
done < "$root/tmp/files.txt"
for d in /usr/share/scanwerk /usr/share/doc/scanwerk; do
  [ ! -e "$root$d" ] || { echo "package: $d left after purge" >&2; exit 1; }
done
in_root apt-get autoremove --purge -y -qq >/dev/null
in_root find / -xdev \( -path /proc -o -path /run -o -path /tmp -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \) -prune -o -print | sort > "$after"
left=$(comm -13 "$before" "$after" | grep -v -e '^/srv' -e '^/etc/scanwerk' -e '^/var/lib/systemd' -e '^/home' || true)
[ -z "$left" ] || { echo "package: left after purge:" >&2; echo "$left" >&2; exit 1; }
for kept in /srv/archive/demo-2026-001/manifest-sha256.txt /srv/scan/demo/batch.toml /etc/scanwerk/keys/demo/signing-key.pem; do
  [ -e "$root$kept" ] || { echo "package: purge removed $kept" >&2; exit 1; }
done
echo "package: $deb installs, runs, ingests, verifies and purges cleanly in a Debian 12 root" >&2
