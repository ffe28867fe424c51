#!/usr/bin/env bash
# Shared settings and helpers of the C2M Fabric scripts; sourced by network.sh and package-chaincode.sh.
#
#   MODE=docker  the containers of docker-compose.yml (profile fabric); CLIs run in the fabric-tools and
#                fabric-ca containers, so only Docker is needed on the host.
#   MODE=local   Fabric 2.5 binaries on PATH (peer, orderer, configtxgen, osnadmin, discover, and cryptogen
#                or fabric-ca-server/fabric-ca-client); every node is a local process on 127.0.0.1.
#   CRYPTO=ca|cryptogen   crypto material from one Fabric CA per org (default; users get `role` attributes)
#                or from cryptogen (quick start; no role attributes).

# shellcheck disable=SC2034 # the settings below are used by the scripts that source this file
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FABRIC_DIR="$(cd "$SCRIPTS_DIR/.." && pwd)"
REPO_DIR="$(cd "$FABRIC_DIR/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$FABRIC_DIR/build}"

MODE="${MODE:-docker}"
CRYPTO="${CRYPTO:-ca}"
CHANNEL="${CHANNEL:-c2m}"
CC_NAME="${CC_NAME:-c2m}"
CC_VERSION="${CC_VERSION:-1.0}"
CC_SEQUENCE="${CC_SEQUENCE:-1}"
CC_LABEL="${CC_NAME}_${CC_VERSION}"
CA_ADMIN_PASSWORD="${CA_ADMIN_PASSWORD:-adminpw}"
# Password for the nodes and users the scripts register; a demo default, override it for anything shared.
ENROLL_PASSWORD="${ENROLL_PASSWORD:-c2m-enroll-pw}"
DISCOVERY_TIMEOUT="${DISCOVERY_TIMEOUT:-120}"
COMPOSE=(docker compose -f "$REPO_DIR/docker-compose.yml" --profile fabric --profile fabric-tools)

case "$MODE" in docker | local) ;; *) echo "MODE must be docker or local, not $MODE" >&2; exit 2 ;; esac
case "$CRYPTO" in ca | cryptogen) ;; *) echo "CRYPTO must be ca or cryptogen, not $CRYPTO" >&2; exit 2 ;; esac

# Orgs in channel order: MSP id, short name (domain <short>.c2m.local), peer port, chaincode port, operations port, CA port.
ORGS=(PlatformOrg BrandOrg Factory1Org Factory2Org FinanceOrg)
declare -A SHORT=([PlatformOrg]=platform [BrandOrg]=brand [Factory1Org]=factory1 [Factory2Org]=factory2 [FinanceOrg]=finance)
declare -A PEER_PORT=([PlatformOrg]=7051 [BrandOrg]=8051 [Factory1Org]=9051 [Factory2Org]=10051 [FinanceOrg]=11051)
declare -A CC_PORT=([PlatformOrg]=7052 [BrandOrg]=8052 [Factory1Org]=9052 [Factory2Org]=10052 [FinanceOrg]=11052)
declare -A OPS_PORT=([PlatformOrg]=9444 [BrandOrg]=9445 [Factory1Org]=9446 [Factory2Org]=9447 [FinanceOrg]=9448)
declare -A CA_PORT=([PlatformOrg]=7054 [BrandOrg]=8054 [Factory1Org]=9054 [Factory2Org]=10054 [FinanceOrg]=11054)
ORDERER_HOST=orderer0.platform.c2m.local
ORDERER_PORT=7050
ORDERER_ADMIN_PORT=7053
ORDERER_OPS_PORT=9443
CHAINCODE_PORT=9999
# docker-compose.yml services of profile fabric (the default stack is left alone by down/clean).
FABRIC_SERVICES=(ca.platform.c2m.local ca.brand.c2m.local ca.factory1.c2m.local ca.factory2.c2m.local ca.finance.c2m.local
  "$ORDERER_HOST" peer0.platform.c2m.local peer0.brand.c2m.local peer0.factory1.c2m.local peer0.factory2.c2m.local
  peer0.finance.c2m.local c2m-chaincode)
FABRIC_VOLUMES=(orderer0-data peer0-platform-data peer0-brand-data peer0-factory1-data peer0-factory2-data peer0-finance-data)
PROJECT="${COMPOSE_PROJECT_NAME:-$(basename "$REPO_DIR" | tr '[:upper:]' '[:lower:]')}"

# Users enrolled with Fabric CA (CRYPTO=ca): name, org, value of the `role` attribute the chaincode checks.
USERS=(
  "platform-admin PlatformOrg admin"
  "certifier PlatformOrg certifier"
  "brand-manager BrandOrg brand-manager"
  "f1-manager Factory1Org factory-manager"
  "f2-manager Factory2Org factory-manager"
  "financier FinanceOrg financier"
)

domain() { echo "${SHORT[$1]}.c2m.local"; }
peer_host() { echo "peer0.$(domain "$1")"; }

# Where the CLIs see the fabric folder: the same path locally, the bind mount /c2m in the tool containers.
if [[ "$MODE" == docker ]]; then TOOL_DIR=/c2m; else TOOL_DIR="$FABRIC_DIR"; fi
TOOL_BUILD="$TOOL_DIR/build"
if [[ "$BUILD_DIR" != "$FABRIC_DIR/build" && "$MODE" == docker ]]; then
  echo "MODE=docker needs BUILD_DIR=$FABRIC_DIR/build (it is bind-mounted into the containers)" >&2
  exit 2
fi
[[ "$MODE" == local ]] && TOOL_BUILD="$BUILD_DIR"

org_dir() { echo "$TOOL_BUILD/organizations/peerOrganizations/$(domain "$1")"; }
host_org_dir() { echo "$BUILD_DIR/organizations/peerOrganizations/$(domain "$1")"; }

# The address a CLI dials for a node: the container name in docker, 127.0.0.1 locally.
node_addr() {
  local host=$1 port=$2
  if [[ "$MODE" == docker ]]; then echo "$host:$port"; else echo "127.0.0.1:$port"; fi
}

log() { printf '\033[1;34m[c2m-fabric]\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31m[c2m-fabric]\033[0m %s\n' "$*" >&2
  exit 1
}

need() {
  local missing=()
  for bin in "$@"; do command -v "$bin" >/dev/null 2>&1 || missing+=("$bin"); done
  ((${#missing[@]} == 0)) || die "MODE=$MODE needs on PATH: ${missing[*]}"
}

# Runs a Fabric CLI with extra VAR=value settings: locally, or in a throw-away fabric-tools container.
# usage: fab_env "VAR=v" ... -- command args...
fab_env() {
  local envs=()
  while [[ $# -gt 0 && "$1" != -- ]]; do
    envs+=("$1")
    shift
  done
  shift
  if [[ "$MODE" == local ]]; then
    env "${envs[@]}" "$@"
  else
    local flags=()
    for e in "${envs[@]}"; do flags+=(-e "$e"); done
    "${COMPOSE[@]}" run --rm -T --no-deps --user "$(id -u):$(id -g)" "${flags[@]}" fabric-tools "$@"
  fi
}

# fabric-ca-client, locally or in the CA image (fabric-tools does not ship it). Its own client config goes to
# build/fabric-ca-client, not to $HOME (a container user without a home could not write it).
fca() {
  if [[ "$MODE" == local ]]; then
    fabric-ca-client "$@" --home "$TOOL_BUILD/fabric-ca-client"
  else
    "${COMPOSE[@]}" run --rm -T --no-deps --user "$(id -u):$(id -g)" --entrypoint fabric-ca-client fabric-ca-tools \
      "$@" --home "$TOOL_BUILD/fabric-ca-client"
  fi
}

# The peer CLI acting as an org's admin against that org's peer.
peer_as() {
  local org=$1
  shift
  local dir
  dir="$(org_dir "$org")"
  fab_env \
    "CORE_PEER_TLS_ENABLED=true" \
    "CORE_PEER_LOCALMSPID=$org" \
    "CORE_PEER_TLS_ROOTCERT_FILE=$dir/peers/$(peer_host "$org")/tls/ca.crt" \
    "CORE_PEER_MSPCONFIGPATH=$dir/users/Admin@$(domain "$org")/msp" \
    "CORE_PEER_ADDRESS=$(node_addr "$(peer_host "$org")" "${PEER_PORT[$org]}")" \
    "${PEER_CFG_ENV[@]}" \
    -- peer "$@"
}

ORDERER_TLS_CA="$(org_dir PlatformOrg)/orderers/$ORDERER_HOST/tls/ca.crt"
# The orderer's address and TLS flags for peer commands that talk to it.
orderer_flags() {
  echo "-o $(node_addr "$ORDERER_HOST" "$ORDERER_PORT") --ordererTLSHostnameOverride $ORDERER_HOST --tls --cafile $ORDERER_TLS_CA"
}

# Local peer CLIs need a core.yaml; the rendered copy in build/peercfg has the ccaas builder path fixed.
PEER_CFG_ENV=()
if [[ "$MODE" == local ]]; then PEER_CFG_ENV=("FABRIC_CFG_PATH=$BUILD_DIR/peercfg"); fi
