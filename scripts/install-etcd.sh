#!/usr/bin/env bash
# Makes etcd binaries of every supported line available for the tests, without touching the
# system's apt configuration beyond installing Debian bookworm's own etcd packages.
#
#   scripts/install-etcd.sh                  install every line
#   scripts/install-etcd.sh --print [LINE]   print the etcd binary of LINE (installing it if
#                                            needed); LINE is 3.4.23, 3.5.16 (the default),
#                                            3.5.30, 3.6.14 or 3.7.1. etcdctl sits beside it.
#
# etcd 3.4.23: `apt-get install etcd-server etcd-client` (bookworm), binaries on PATH.
# etcd 3.5.16: trixie's `etcd-server`/`etcd-client` .deb files, and 3.5.30: sid's, fetched with
#              `apt-get download` through a private sources list that reuses this machine's
#              configured Debian mirror (read from the system's apt sources, never written here),
#              unpacked with `dpkg -x` into .cache/etcd (git-ignored). The Go binaries run on
#              bookworm.
# etcd 3.6.14, 3.7.1: no Debian suite has them; the archives built from etcd's source sit beside
#              the project (ETCD_ARCHIVES, default ../shared/etcd), checked against their
#              SHA256SUMS and unpacked into .cache/etcd/<version>.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="$here/.cache/etcd"
v35="$cache/3.5/usr/bin/etcd"
v3530="$cache/3.5.30/usr/bin/etcd"
# The archives of 3.6 and 3.7: ETCD_ARCHIVES, else the shared folder beside the checkout (or one
# level further up, for a checkout inside a folder of checkouts).
archives="${ETCD_ARCHIVES:-}"
if [ -z "$archives" ]; then
  for candidate in "$here/../shared/etcd" "$here/../../shared/etcd" /work/shared/etcd; do
    if [ -f "$candidate/SHA256SUMS" ]; then archives="$candidate"; break; fi
  done
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

log() { [ "${1:-}" = "" ] || echo "install-etcd: $*" >&2; }

install_34() {
  if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then return; fi
  log "installing etcd 3.4 (etcd-server, etcd-client) with apt"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server etcd-client >/dev/null
  # The package enables a system service; the tests start their own members.
  $sudo systemctl disable --now etcd >/dev/null 2>&1 || true
}

mirror_uri() {
  # The first Debian (not security) URI configured on this machine, deb822 or one-line format.
  local uri=""
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/*.sources | head -n 1)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list | head -n 1)
  fi
  echo "$uri"
}

install_deb() {
  local suite="$1" dest="$2" binary="$3"
  local packages=(${PACKAGES:-etcd-server etcd-client})
  if [ -e "$binary" ]; then return; fi
  local uri
  uri=$(mirror_uri)
  [ -n "$uri" ] || { log "no Debian mirror found in the apt sources"; exit 1; }
  local apt="$cache/apt-$suite"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$cache/debs-$suite"
  local keyring="${4:-/usr/share/keyrings/debian-archive-keyring.gpg}"
  [ -z "${4:-}" ] && [ -f /usr/share/keyrings/debian-archive-trixie-stable.gpg ] &&
    keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$uri" "$suite" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o "Dir::State::Status=/dev/null"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  log "fetching etcd from Debian $suite"
  apt-get "${opts[@]}" -qq update
  (cd "$cache/debs-$suite" && apt-get "${opts[@]}" -qq download "${packages[@]}")
  mkdir -p "$dest"
  for deb in "$cache"/debs-"$suite"/*.deb; do dpkg -x "$deb" "$dest"; done
  rm -rf "$apt"
  [ -e "$binary" ] || { log "$binary missing after unpacking $suite's packages"; exit 1; }
}

install_35() { install_deb trixie "$cache/3.5" "$v35"; }
# sid is signed with keys newer than bookworm's keyring: take trixie's (verified) keyring package
# first, and check sid with the keys it ships.
install_3530() {
  local keys="$cache/keyring/usr/share/keyrings/debian-archive-keyring.gpg"
  [ -f "$keys" ] || PACKAGES=debian-archive-keyring install_deb trixie "$cache/keyring" "$keys"
  install_deb sid "$cache/3.5.30" "$v3530" "$keys"
}

install_archive() {
  local version="$1" archive="$archives/etcd-$1-linux-amd64.tar.xz"
  if [ -x "$cache/$version/etcd" ]; then return; fi
  [ -f "$archive" ] || { log "etcd-$1-linux-amd64.tar.xz not found (set ETCD_ARCHIVES)"; exit 1; }
  (cd "$archives" && grep " etcd-$version-linux-amd64.tar.xz\$" SHA256SUMS | sha256sum --check --quiet) ||
    { log "checksum mismatch for $archive"; exit 1; }
  mkdir -p "$cache"
  tar -xJf "$archive" -C "$cache"
  (cd "$cache" && grep " $version/" "$archives/SHA256SUMS" | sha256sum --check --quiet) ||
    { log "unpacked binaries of $version do not match SHA256SUMS"; exit 1; }
}

binary_of() {
  case "$1" in
    3.4.23) install_34; command -v etcd ;;
    3.5.16 | 3.5) install_35; echo "$v35" ;;
    3.5.30) install_3530; echo "$v3530" ;;
    3.6.14 | 3.7.1) install_archive "$1"; echo "$cache/$1/etcd" ;;
    *) log "unknown etcd line $1 (3.4.23, 3.5.16, 3.5.30, 3.6.14, 3.7.1)"; exit 2 ;;
  esac
}

if [ "${1:-}" = "--print" ]; then
  binary_of "${2:-3.5.16}"
  exit 0
fi
for line in 3.4.23 3.5.16 3.5.30 3.6.14 3.7.1; do
  bin="$(binary_of "$line")"
  log "etcd $line: $bin ($("$bin" --version | head -n 1))"
done
