#!/usr/bin/env bash
# Turns source checkouts of Hyperledger Fabric and Fabric CA into the layout of a Fabric release tarball, for
# machines that cannot download the release binaries (air-gapped, or an architecture without a release):
#
#   FABRIC_SRC=~/src/fabric FABRIC_CA_SRC=~/src/fabric-ca COPY_SRC=~/src/copy \
#     network/fabric/scripts/install-fabric.sh ~/fabric
#
# gives ~/fabric/bin (peer orderer osnadmin configtxgen configtxlator cryptogen discover ledgerutil
# fabric-ca-server fabric-ca-client), ~/fabric/config (core.yaml orderer.yaml configtx.yaml) and
# ~/fabric/builders/ccaas/bin (detect build release): what network.sh MODE=local expects as FABRIC_HOME.
#
#   FABRIC_SRC     a checkout of github.com/hyperledger/fabric at a v2.5 tag (tested: v2.5.5, which vendors its
#                  dependencies and builds with Go 1.19; v2.5.6 and later need Go 1.20+)
#   FABRIC_CA_SRC  a checkout of github.com/hyperledger/fabric-ca (tested: v1.5.9); optional with SKIP_CA=1
#   COPY_SRC       a checkout of github.com/otiai10/copy at v1.6.0: the CCaaS builder's one dependency that
#                  Fabric's vendor/ lacks (ccaas_builder/ is its own module); not needed if that module
#                  already has a vendor/ folder
#   GO             the Go toolchain (default: go on PATH, else Debian's /usr/lib/go-1.19/bin/go)
#
# Nothing is downloaded: the build runs with GOFLAGS=-mod=vendor GOPROXY=off. The checkouts are not
# modified (the CCaaS builder is built from a copy). Fabric CA links the system SQLite (-tags libsqlite3;
# Debian: libsqlite3-dev), because some source snapshots lack the amalgamation go-sqlite3 vendors.
#
# With internet access the ordinary path is the release itself:
#   curl -sSLO https://raw.githubusercontent.com/hyperledger/fabric/main/scripts/install-fabric.sh
#   bash install-fabric.sh --fabric-version 2.5.5 --ca-version 1.5.9 binary
set -euo pipefail

OUT="${1:-}"
[[ -n "$OUT" ]] || {
  echo "usage: FABRIC_SRC=... FABRIC_CA_SRC=... COPY_SRC=... $0 <release-dir>" >&2
  exit 2
}
: "${FABRIC_SRC:?FABRIC_SRC must name a checkout of hyperledger/fabric}"
SKIP_CA="${SKIP_CA:-0}"
if [[ "$SKIP_CA" != 1 ]]; then : "${FABRIC_CA_SRC:?FABRIC_CA_SRC must name a checkout of hyperledger/fabric-ca (or SKIP_CA=1)}"; fi
if [[ -z "${GO:-}" ]]; then
  if command -v go >/dev/null 2>&1; then GO=go; elif [[ -x /usr/lib/go-1.19/bin/go ]]; then GO=/usr/lib/go-1.19/bin/go; else
    echo "no Go toolchain: set GO, or install one (Debian: apt-get install golang-1.19-go)" >&2
    exit 2
  fi
fi
log() { printf '\033[1;34m[install-fabric]\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31m[install-fabric]\033[0m %s\n' "$*" >&2
  exit 1
}

FABRIC_SRC="$(cd "$FABRIC_SRC" && pwd)"
[[ -f "$FABRIC_SRC/go.mod" && -d "$FABRIC_SRC/vendor" && -d "$FABRIC_SRC/sampleconfig" ]] ||
  die "$FABRIC_SRC is not a Fabric source tree with vendor/ (v2.5.x expected)"
mkdir -p "$OUT/bin" "$OUT/config" "$OUT/builders/ccaas/bin"
OUT="$(cd "$OUT" && pwd)"

# Offline and reproducible: vendored modules only, this toolchain only, no VCS stamping (checkouts may be
# plain archives).
export GOFLAGS="-mod=vendor -buildvcs=false" GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on
log "Go: $("$GO" version)"

version_of() { # the version a Makefile declares, e.g. FABRIC_VER ?= 2.5.5
  sed -nE "s/^$2 *\\??= *v?([0-9][0-9.]*).*/\\1/p" "$1/Makefile" | head -n 1
}
FABRIC_VER="$(version_of "$FABRIC_SRC" FABRIC_VER)"
[[ -n "$FABRIC_VER" ]] || die "cannot read FABRIC_VER from $FABRIC_SRC/Makefile"
log "Fabric $FABRIC_VER from $FABRIC_SRC"
ldflags="-X github.com/hyperledger/fabric/common/metadata.Version=$FABRIC_VER -X github.com/hyperledger/fabric/common/metadata.CommitSHA=source"
for exe in peer orderer osnadmin configtxgen configtxlator cryptogen discover ledgerutil; do
  log "building $exe"
  (cd "$FABRIC_SRC" && "$GO" build -ldflags "$ldflags" -o "$OUT/bin/$exe" "./cmd/$exe")
done
cp "$FABRIC_SRC"/sampleconfig/{core,orderer,configtx}.yaml "$OUT/config/"

# The CCaaS external builder: a module of its own without vendor/ in the release tags. Build it from a copy,
# with a vendor/ made of otiai10/copy v1.6.0 and Fabric's own vendored github.com/pkg/errors.
log "building the ccaas builder"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$FABRIC_SRC/ccaas_builder" "$work/ccaas"
if [[ ! -d "$work/ccaas/vendor" ]]; then
  : "${COPY_SRC:?COPY_SRC must name a checkout of github.com/otiai10/copy v1.6.0 (the CCaaS builder needs it)}"
  grep -q 'github.com/otiai10/copy v1.6.0' "$work/ccaas/go.mod" ||
    die "ccaas_builder/go.mod no longer requires otiai10/copy v1.6.0; vendor what it requires instead"
  [[ -f "$COPY_SRC/copy.go" ]] || die "$COPY_SRC is not a checkout of otiai10/copy"
  mkdir -p "$work/ccaas/vendor/github.com/otiai10" "$work/ccaas/vendor/github.com/pkg"
  cp -r "$COPY_SRC" "$work/ccaas/vendor/github.com/otiai10/copy"
  rm -rf "$work/ccaas/vendor/github.com/otiai10/copy/.git" "$work/ccaas/vendor/github.com/otiai10/copy/test"
  find "$work/ccaas/vendor/github.com/otiai10/copy" -name '*_test.go' -delete
  cp -r "$FABRIC_SRC/vendor/github.com/pkg/errors" "$work/ccaas/vendor/github.com/pkg/errors"
  # Every requirement of go.mod must be listed; gomega only serves the builder's tests, so no packages.
  cat >"$work/ccaas/vendor/modules.txt" <<'EOF'
# github.com/onsi/gomega v1.17.0
## explicit
# github.com/otiai10/copy v1.6.0
## explicit
github.com/otiai10/copy
# github.com/pkg/errors v0.9.1
## explicit
github.com/pkg/errors
EOF
fi
for cmd in detect build release; do
  (cd "$work/ccaas" && "$GO" build -o "$OUT/builders/ccaas/bin/$cmd" "./cmd/$cmd")
done

if [[ "$SKIP_CA" != 1 ]]; then
  FABRIC_CA_SRC="$(cd "$FABRIC_CA_SRC" && pwd)"
  CA_VER="$(version_of "$FABRIC_CA_SRC" BASE_VERSION)"
  [[ -n "$CA_VER" ]] || die "cannot read BASE_VERSION from $FABRIC_CA_SRC/Makefile"
  log "Fabric CA $CA_VER from $FABRIC_CA_SRC (system SQLite)"
  for exe in fabric-ca-server fabric-ca-client; do
    log "building $exe"
    (cd "$FABRIC_CA_SRC" && CGO_ENABLED=1 "$GO" build -tags libsqlite3 \
      -ldflags "-X github.com/hyperledger/fabric-ca/lib/metadata.Version=$CA_VER" -o "$OUT/bin/$exe" "./cmd/$exe")
  done
fi
log "release layout in $OUT: export PATH=$OUT/bin:\$PATH FABRIC_CFG_PATH=$OUT/config"
"$OUT/bin/peer" version | head -n 2 >&2
