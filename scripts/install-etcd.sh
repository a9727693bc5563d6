#!/usr/bin/env bash
# Makes etcd binaries available for the tests, without touching the system's apt configuration
# beyond installing Debian bookworm's own etcd packages.
#
#   scripts/install-etcd.sh            install both lines (3.4 from apt, 3.5 from trixie's package)
#   scripts/install-etcd.sh --print    print the path of the 3.5 etcd binary (installing if needed)
#
# etcd 3.4.23: `apt-get install etcd-server etcd-client` (bookworm), binaries on PATH.
# etcd 3.5.x:  trixie's `etcd-server`/`etcd-client` .deb files fetched with `apt-get download`
#              through a private sources list that reuses this machine's configured Debian mirror
#              (read from the system's apt sources, never written here), unpacked with `dpkg -x`
#              into .cache/etcd (git-ignored). The Go binaries run on bookworm.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="$here/.cache/etcd"
v35="$cache/3.5/usr/bin/etcd"
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

install_35() {
  if [ -x "$v35" ]; then return; fi
  local uri
  uri=$(mirror_uri)
  [ -n "$uri" ] || { log "no Debian mirror found in the apt sources"; exit 1; }
  local apt="$cache/apt"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$cache/debs"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f /usr/share/keyrings/debian-archive-trixie-stable.gpg ] && keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg
  printf 'deb [signed-by=%s] %s trixie main\n' "$keyring" "$uri" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o "Dir::State::Status=/dev/null"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  log "fetching etcd 3.5 from Debian trixie"
  apt-get "${opts[@]}" -qq update
  (cd "$cache/debs" && apt-get "${opts[@]}" -qq download etcd-server etcd-client)
  mkdir -p "$cache/3.5"
  for deb in "$cache"/debs/*.deb; do dpkg -x "$deb" "$cache/3.5"; done
  rm -rf "$apt"
  [ -x "$v35" ] || { log "etcd 3.5 binary missing after unpack"; exit 1; }
}

if [ "${1:-}" = "--print" ]; then
  install_35
  echo "$v35"
  exit 0
fi
install_34
install_35
log "etcd 3.4: $(command -v etcd) ($(etcd --version | head -n 1))"
log "etcd 3.5: $v35 ($("$v35" --version | head -n 1))"
