#!/usr/bin/env bash
# Brings up the C2M Fabric network and writes the connection settings the platform reads.
#
#   MODE=docker|local CRYPTO=ca|cryptogen network/fabric/scripts/network.sh up
#   network/fabric/scripts/network.sh down          # stop what `up` started; keep build/
#   network/fabric/scripts/network.sh clean         # down, then delete build/ (crypto material, ledgers)
#
# Steps of `up` (each also runs alone: crypto, nodes, channel, deploy, discovery, settings):
#   1. crypto      MSP and TLS material per org (Fabric CA enrolment, or cryptogen), NodeOUs on
#   2. nodes       the orderer (Raft, PlatformOrg) and one peer per org; in MODE=docker the CAs first
#   3. channel     configtxgen genesis block of `c2m`, `osnadmin channel join`, every peer joins
#   4. deploy      chaincode-as-a-service package, install on every peer, start the chaincode server,
#                  approve by every org with the endorsement policy and collections, commit
#   5. discovery   wait until gossip has every peer and discovery can satisfy the endorsement policy
#   6. settings    build/connection.json (and connection.docker.json for the platform container)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PIDS_DIR="$BUILD_DIR/pids"
LOGS_DIR="$BUILD_DIR/logs"
POLICY="$(tr -d '\n' <"$FABRIC_DIR/endorsement-policy.txt")"

check_tools() {
  if [[ "$MODE" == docker ]]; then
    need docker
    return
  fi
  need peer orderer configtxgen osnadmin discover
  if [[ "$CRYPTO" == ca ]]; then need fabric-ca-server fabric-ca-client; else need cryptogen; fi
  FABRIC_HOME="${FABRIC_HOME:-$(cd "$(dirname "$(command -v peer)")/.." && pwd)}"
  [[ -f "${FABRIC_CFG_PATH:-$FABRIC_HOME/config}/core.yaml" ]] ||
    die "no core.yaml: set FABRIC_CFG_PATH to the config/ folder of the Fabric 2.5 release"
  [[ -x "$FABRIC_HOME/builders/ccaas/bin/detect" ]] ||
    die "no ccaas builder at $FABRIC_HOME/builders/ccaas: set FABRIC_HOME to the unpacked Fabric 2.5 release"
}

# --- 1. crypto material -------------------------------------------------------------------------------

nodeous_config() {
  local cacert=$1
  cat <<EOF
NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/$cacert
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/$cacert
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/$cacert
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/$cacert
    OrganizationalUnitIdentifier: orderer
EOF
}

# The CA's config with the bootstrap registrar's password filled in (fabric-ca-server ignores `-b` when it is
# given a config file, so the registrar is listed in the file's registry).
render_ca_config() {
  local short=$1 home=$2 text
  [[ "$CA_ADMIN_PASSWORD" != *[\"\\]* && -n "$CA_ADMIN_PASSWORD" ]] ||
    die "CA_ADMIN_PASSWORD must be non-empty and hold no double quote or backslash (it is written into YAML)"
  text="$(<"$FABRIC_DIR/ca/$short/fabric-ca-server-config.yaml")"
  [[ "$text" == *__CA_ADMIN_PASSWORD__* ]] || die "ca/$short/fabric-ca-server-config.yaml lists no bootstrap registrar"
  printf '%s\n' "${text//__CA_ADMIN_PASSWORD__/$CA_ADMIN_PASSWORD}" >"$home/fabric-ca-server-config.yaml"
  chmod 600 "$home/fabric-ca-server-config.yaml"
}

start_ca() {
  local org=$1 short=${SHORT[$1]}
  local home="$BUILD_DIR/fabric-ca/$short"
  mkdir -p "$home"
  render_ca_config "$short" "$home"
  if [[ "$MODE" == docker ]]; then
    "${COMPOSE[@]}" up -d "ca.$short.c2m.local"
  else
    # No subshell: $! must be the server itself, or `down` would stop a shell and leave the CA running.
    FABRIC_CA_SERVER_HOME="$home" nohup fabric-ca-server start --home "$home" \
      --address 127.0.0.1 --port "${CA_PORT[$org]}" \
      --operations.listenaddress "127.0.0.1:$((CA_PORT[$org] + 10000))" \
      >"$LOGS_DIR/ca.$short.log" 2>&1 &
    echo $! >"$PIDS_DIR/ca.$short.pid"
  fi
  local i
  for i in $(seq 1 60); do
    [[ -s "$home/ca-cert.pem" && -s "$home/tls-cert.pem" ]] && return 0
    sleep 1
  done
  die "CA of $org did not start (see $LOGS_DIR/ca.$short.log or docker compose logs)"
}

# Enrols into an MSP folder and normalises file names: signcerts/cert.pem, keystore/key.pem (one each).
enroll() {
  local org=$1 user=$2 msp=$3
  shift 3
  local short=${SHORT[$org]}
  local ca_url
  if [[ "$MODE" == docker ]]; then ca_url="ca.$short.c2m.local:${CA_PORT[$org]}"; else ca_url="localhost:${CA_PORT[$org]}"; fi
  fca enroll -u "https://$user:$ENROLL_PASSWORD@$ca_url" --caname "ca-$short" -M "$msp" \
    --tls.certfiles "$TOOL_BUILD/fabric-ca/$short/ca-cert.pem" "$@"
}

register() {
  local org=$1 name=$2 type=$3 attrs=${4:-}
  local short=${SHORT[$org]} ca_url
  if [[ "$MODE" == docker ]]; then ca_url="ca.$short.c2m.local:${CA_PORT[$org]}"; else ca_url="localhost:${CA_PORT[$org]}"; fi
  local extra=()
  [[ -n "$attrs" ]] && extra=(--id.attrs "$attrs")
  fca register --caname "ca-$short" --id.name "$name" --id.secret "$ENROLL_PASSWORD" --id.type "$type" \
    -u "https://$ca_url" --tls.certfiles "$TOOL_BUILD/fabric-ca/$short/ca-cert.pem" \
    --mspdir "$TOOL_BUILD/fabric-ca/$short/registrar/msp" "${extra[@]}" ||
    log "register $name at ca-$short failed (already registered?); enrolling anyway"
}

# TLS material as Fabric nodes expect it: tls/{ca.crt,server.crt,server.key}.
tls_layout() {
  local dir=$1
  cp "$dir"/tlscacerts/* "$dir/ca.crt"
  cp "$dir"/signcerts/* "$dir/server.crt"
  cp "$dir"/keystore/* "$dir/server.key"
}

normalise_msp() {
  local msp=$1
  mv "$msp"/signcerts/* "$msp/signcerts/cert.pem" 2>/dev/null || true
  mv "$msp"/keystore/* "$msp/keystore/key.pem" 2>/dev/null || true
}

crypto_ca() {
  mkdir -p "$PIDS_DIR" "$LOGS_DIR"
  for org in "${ORGS[@]}"; do start_ca "$org"; done
  for org in "${ORGS[@]}"; do
    local short=${SHORT[$org]} dom
    dom="$(domain "$org")"
    local odir hdir
    odir="$(org_dir "$org")"
    hdir="$(host_org_dir "$org")"
    local ca_url
    if [[ "$MODE" == docker ]]; then ca_url="ca.$short.c2m.local:${CA_PORT[$org]}"; else ca_url="localhost:${CA_PORT[$org]}"; fi
    log "enrolling $org at ca-$short"
    fca enroll -u "https://admin:$CA_ADMIN_PASSWORD@$ca_url" --caname "ca-$short" \
      -M "$TOOL_BUILD/fabric-ca/$short/registrar/msp" --tls.certfiles "$TOOL_BUILD/fabric-ca/$short/ca-cert.pem"

    register "$org" peer0 peer
    register "$org" orgadmin admin
    [[ "$org" == PlatformOrg ]] && register "$org" orderer0 orderer
    local entry name uorg role
    for entry in "${USERS[@]}"; do
      read -r name uorg role <<<"$entry"
      # ':ecert' puts the attribute into the enrolment certificate, where ctx.clientIdentity reads it.
      [[ "$uorg" == "$org" ]] && register "$org" "$name" client "role=$role:ecert"
    done

    # The org's MSP as the channel sees it: CA root, TLS root, NodeOUs.
    mkdir -p "$hdir/msp/cacerts" "$hdir/msp/tlscacerts"
    cp "$BUILD_DIR/fabric-ca/$short/ca-cert.pem" "$hdir/msp/cacerts/ca.pem"
    cp "$BUILD_DIR/fabric-ca/$short/ca-cert.pem" "$hdir/msp/tlscacerts/ca.pem"
    nodeous_config ca.pem >"$hdir/msp/config.yaml"

    local nodes=("peers/peer0.$dom peer0")
    [[ "$org" == PlatformOrg ]] && nodes+=("orderers/$ORDERER_HOST orderer0")
    local node path id host
    for node in "${nodes[@]}"; do
      read -r path id <<<"$node"
      host="${path#*/}"
      enroll "$org" "$id" "$odir/$path/msp" --csr.hosts "$host"
      enroll "$org" "$id" "$odir/$path/tls" --enrollment.profile tls \
        --csr.hosts "$host" --csr.hosts localhost --csr.hosts 127.0.0.1
      mkdir -p "$hdir/$path/msp/cacerts"
      cp "$hdir/$path/msp/cacerts/"* "$hdir/$path/msp/cacerts/ca.pem" 2>/dev/null || true
      find "$hdir/$path/msp/cacerts" -type f ! -name ca.pem -delete
      nodeous_config ca.pem >"$hdir/$path/msp/config.yaml"
      tls_layout "$hdir/$path/tls"
    done

    enroll "$org" orgadmin "$odir/users/Admin@$dom/msp"
    for entry in "${USERS[@]}"; do
      read -r name uorg role <<<"$entry"
      [[ "$uorg" == "$org" ]] && enroll "$org" "$name" "$odir/users/$name@$dom/msp" --enrollment.attrs "role"
    done
    local u
    for u in "$hdir"/users/*/msp; do
      cp "$u/cacerts/"* "$u/cacerts/ca.pem" 2>/dev/null || true
      find "$u/cacerts" -type f ! -name ca.pem -delete
      nodeous_config ca.pem >"$u/config.yaml"
      normalise_msp "$u"
    done
  done
}

crypto_cryptogen() {
  fab_env -- cryptogen generate --config="$TOOL_DIR/crypto-config.yaml" --output="$TOOL_BUILD/organizations"
  # cryptogen files PlatformOrg's orderer0 under peers/; the orderer and configtx.yaml look in orderers/.
  local p
  p="$(host_org_dir PlatformOrg)"
  mkdir -p "$p/orderers"
  rm -rf "${p:?}/orderers/$ORDERER_HOST"
  mv "$p/peers/$ORDERER_HOST" "$p/orderers/$ORDERER_HOST"
  local u
  for u in "$BUILD_DIR"/organizations/peerOrganizations/*/users/*/msp; do normalise_msp "$u"; done
}

step_crypto() {
  if [[ -d "$BUILD_DIR/organizations" ]]; then
    log "crypto material exists in $BUILD_DIR/organizations; keeping it (run 'clean' for a new network)"
    return
  fi
  mkdir -p "$BUILD_DIR/organizations/peerOrganizations" "$PIDS_DIR" "$LOGS_DIR"
  log "crypto material with $CRYPTO"
  if [[ "$CRYPTO" == ca ]]; then crypto_ca; else crypto_cryptogen; fi
}

# --- 2. nodes -----------------------------------------------------------------------------------------

render_configs() {
  mkdir -p "$BUILD_DIR/configtx"
  if [[ "$MODE" == local ]]; then
    # Same ports, every host on 127.0.0.1 (the TLS certificates carry that SAN).
    sed -E 's/(peer0|orderer0)\.[a-z0-9]+\.c2m\.local/127.0.0.1/g' "$FABRIC_DIR/configtx.yaml" >"$BUILD_DIR/configtx/configtx.yaml"
    # ClientTLSCert/ServerTLSCert paths contain the host name as a folder: keep those.
    sed -i -E "s#orderers/127\.0\.0\.1#orderers/$ORDERER_HOST#g" "$BUILD_DIR/configtx/configtx.yaml"
    mkdir -p "$BUILD_DIR/peercfg"
    sed "s#/opt/hyperledger/ccaas_builder#$FABRIC_HOME/builders/ccaas#" "${FABRIC_CFG_PATH:-$FABRIC_HOME/config}/core.yaml" \
      >"$BUILD_DIR/peercfg/core.yaml"
    grep -q "$FABRIC_HOME/builders/ccaas" "$BUILD_DIR/peercfg/core.yaml" ||
      die "core.yaml has no ccaas_builder entry to point at $FABRIC_HOME/builders/ccaas (Fabric 2.5 config expected)"
    cp "${FABRIC_CFG_PATH:-$FABRIC_HOME/config}/orderer.yaml" "$BUILD_DIR/peercfg/orderer.yaml"
  else
    cp "$FABRIC_DIR/configtx.yaml" "$BUILD_DIR/configtx/configtx.yaml"
  fi
}

start_local_orderer() {
  local o
  o="$(host_org_dir PlatformOrg)/orderers/$ORDERER_HOST"
  mkdir -p "$BUILD_DIR/data/$ORDERER_HOST"
  FABRIC_CFG_PATH="$BUILD_DIR/peercfg" \
    ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 \
    ORDERER_GENERAL_LISTENPORT=$ORDERER_PORT \
    ORDERER_GENERAL_LOCALMSPID=PlatformOrg \
    ORDERER_GENERAL_LOCALMSPDIR="$o/msp" \
    ORDERER_GENERAL_TLS_ENABLED=true \
    ORDERER_GENERAL_TLS_PRIVATEKEY="$o/tls/server.key" \
    ORDERER_GENERAL_TLS_CERTIFICATE="$o/tls/server.crt" \
    ORDERER_GENERAL_TLS_ROOTCAS="[$o/tls/ca.crt]" \
    ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$o/tls/server.crt" \
    ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$o/tls/server.key" \
    ORDERER_GENERAL_CLUSTER_ROOTCAS="[$o/tls/ca.crt]" \
    ORDERER_GENERAL_BOOTSTRAPMETHOD=none \
    ORDERER_CHANNELPARTICIPATION_ENABLED=true \
    ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:$ORDERER_ADMIN_PORT" \
    ORDERER_ADMIN_TLS_ENABLED=true \
    ORDERER_ADMIN_TLS_CERTIFICATE="$o/tls/server.crt" \
    ORDERER_ADMIN_TLS_PRIVATEKEY="$o/tls/server.key" \
    ORDERER_ADMIN_TLS_ROOTCAS="[$o/tls/ca.crt]" \
    ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$o/tls/ca.crt]" \
    ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:$ORDERER_OPS_PORT" \
    ORDERER_METRICS_PROVIDER=prometheus \
    ORDERER_FILELEDGER_LOCATION="$BUILD_DIR/data/$ORDERER_HOST/ledger" \
    ORDERER_CONSENSUS_WALDIR="$BUILD_DIR/data/$ORDERER_HOST/etcdraft/wal" \
    ORDERER_CONSENSUS_SNAPDIR="$BUILD_DIR/data/$ORDERER_HOST/etcdraft/snapshot" \
    nohup orderer >"$LOGS_DIR/$ORDERER_HOST.log" 2>&1 &
  echo $! >"$PIDS_DIR/$ORDERER_HOST.pid"
}

start_local_peer() {
  local org=$1 host dir
  host="$(peer_host "$org")"
  dir="$(host_org_dir "$org")/peers/$host"
  mkdir -p "$BUILD_DIR/data/$host"
  FABRIC_CFG_PATH="$BUILD_DIR/peercfg" \
    CORE_PEER_ID="$host" \
    CORE_PEER_ADDRESS="127.0.0.1:${PEER_PORT[$org]}" \
    CORE_PEER_LISTENADDRESS="127.0.0.1:${PEER_PORT[$org]}" \
    CORE_PEER_CHAINCODEADDRESS="127.0.0.1:${CC_PORT[$org]}" \
    CORE_PEER_CHAINCODELISTENADDRESS="127.0.0.1:${CC_PORT[$org]}" \
    CORE_PEER_GOSSIP_BOOTSTRAP="127.0.0.1:${PEER_PORT[$org]}" \
    CORE_PEER_GOSSIP_EXTERNALENDPOINT="127.0.0.1:${PEER_PORT[$org]}" \
    CORE_PEER_GOSSIP_RECONNECTINTERVAL=2s \
    CORE_PEER_LOCALMSPID="$org" \
    CORE_PEER_MSPCONFIGPATH="$dir/msp" \
    CORE_PEER_TLS_ENABLED=true \
    CORE_PEER_TLS_CERT_FILE="$dir/tls/server.crt" \
    CORE_PEER_TLS_KEY_FILE="$dir/tls/server.key" \
    CORE_PEER_TLS_ROOTCERT_FILE="$dir/tls/ca.crt" \
    CORE_PEER_FILESYSTEMPATH="$BUILD_DIR/data/$host" \
    CORE_OPERATIONS_LISTENADDRESS="127.0.0.1:${OPS_PORT[$org]}" \
    CORE_METRICS_PROVIDER=prometheus \
    nohup peer node start >"$LOGS_DIR/$host.log" 2>&1 &
  echo $! >"$PIDS_DIR/$host.pid"
}

wait_port() {
  local port=$1 what=$2 i
  for i in $(seq 1 60); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 1
  done
  die "$what is not listening on 127.0.0.1:$port (see $LOGS_DIR)"
}

step_nodes() {
  render_configs
  if [[ "$MODE" == docker ]]; then
    local services=("$ORDERER_HOST")
    for org in "${ORGS[@]}"; do services+=("$(peer_host "$org")"); done
    "${COMPOSE[@]}" up -d "${services[@]}"
  else
    mkdir -p "$PIDS_DIR" "$LOGS_DIR"
    # Again after `down`: the same crypto material and ledgers (build/data) come back; running nodes stay.
    if node_running "$ORDERER_HOST"; then log "$ORDERER_HOST is running"; else start_local_orderer; fi
    for org in "${ORGS[@]}"; do
      if node_running "$(peer_host "$org")"; then log "$(peer_host "$org") is running"; else start_local_peer "$org"; fi
    done
  fi
  wait_port "$ORDERER_ADMIN_PORT" "orderer admin"
  for org in "${ORGS[@]}"; do wait_port "${PEER_PORT[$org]}" "$(peer_host "$org")"; done
}

# --- 3. channel ---------------------------------------------------------------------------------------

step_channel() {
  mkdir -p "$BUILD_DIR/channel-artifacts"
  # Each part is skipped when already done, so `up` after `down` resumes the same channel.
  if [[ -s "$BUILD_DIR/channel-artifacts/$CHANNEL.block" ]]; then
    log "genesis block of $CHANNEL exists"
  else
    log "genesis block of $CHANNEL"
    fab_env -- configtxgen -configPath "$TOOL_BUILD/configtx" -profile C2MChannel -channelID "$CHANNEL" \
      -outputBlock "$TOOL_BUILD/channel-artifacts/$CHANNEL.block"
  fi
  local o
  o="$(org_dir PlatformOrg)/orderers/$ORDERER_HOST/tls"
  local osn=(-o "$(node_addr "$ORDERER_HOST" "$ORDERER_ADMIN_PORT")" --ca-file "$o/ca.crt"
    --client-cert "$o/server.crt" --client-key "$o/server.key")
  if fab_env -- osnadmin channel list --channelID "$CHANNEL" "${osn[@]}" 2>/dev/null | grep -q '"name": *"'"$CHANNEL"'"'; then
    log "the orderer is a member of $CHANNEL"
  else
    log "orderer joins $CHANNEL (channel participation API)"
    fab_env -- osnadmin channel join --channelID "$CHANNEL" \
      --config-block "$TOOL_BUILD/channel-artifacts/$CHANNEL.block" "${osn[@]}"
  fi
  for org in "${ORGS[@]}"; do
    if peer_as "$org" channel list 2>/dev/null | grep -qx "$CHANNEL"; then
      log "$(peer_host "$org") is a member of $CHANNEL"
      continue
    fi
    log "$(peer_host "$org") joins $CHANNEL"
    local i
    for i in $(seq 1 10); do
      # The orderer needs a moment to elect itself Raft leader before peers can pull block 0.
      peer_as "$org" channel join -b "$TOOL_BUILD/channel-artifacts/$CHANNEL.block" && break
      [[ $i == 10 ]] && die "$(peer_host "$org") could not join $CHANNEL"
      sleep 2
    done
  done
}

# --- 4. chaincode as a service ------------------------------------------------------------------------

package_id() {
  peer_as PlatformOrg lifecycle chaincode calculatepackageid "$TOOL_BUILD/chaincode/$CC_LABEL.tar.gz"
}

start_chaincode_server() {
  local id=$1
  echo "CHAINCODE_ID=$id" >"$BUILD_DIR/chaincode/chaincode.env"
  if [[ "$MODE" == docker ]]; then
    "${COMPOSE[@]}" up -d --build c2m-chaincode
  else
    [[ -f "$REPO_DIR/chaincode/dist/src/server.js" ]] || die "build the chaincode first: npx tsc --build chaincode"
    CHAINCODE_SERVER_ADDRESS="127.0.0.1:$CHAINCODE_PORT" CHAINCODE_ID="$id" \
      nohup node "$REPO_DIR/chaincode/dist/src/server.js" >"$LOGS_DIR/c2m-chaincode.log" 2>&1 &
    echo $! >"$PIDS_DIR/c2m-chaincode.pid"
    wait_port "$CHAINCODE_PORT" "chaincode server"
  fi
}

step_deploy() {
  local address
  if [[ "$MODE" == docker ]]; then address="c2m-chaincode:$CHAINCODE_PORT"; else address="127.0.0.1:$CHAINCODE_PORT"; fi
  CHAINCODE_ADDRESS="$address" "$SCRIPTS_DIR/package-chaincode.sh"
  local id
  id="$(package_id | tail -n 1)"
  [[ "$id" == "$CC_LABEL:"* ]] || die "unexpected package id '$id'"
  log "package id $id"
  for org in "${ORGS[@]}"; do
    if peer_as "$org" lifecycle chaincode queryinstalled --output json | grep -q "\"$id\""; then
      log "$(peer_host "$org") already has $id"
    else
      peer_as "$org" lifecycle chaincode install "$TOOL_BUILD/chaincode/$CC_LABEL.tar.gz"
    fi
  done
  if [[ "$MODE" == local ]] && node_running c2m-chaincode; then
    log "the chaincode server is running"
  else
    start_chaincode_server "$id"
  fi
  # Already committed at this sequence (`up` after `down`): nothing to approve or commit.
  if peer_as PlatformOrg lifecycle chaincode querycommitted --channelID "$CHANNEL" --name "$CC_NAME" 2>/dev/null |
    grep -q "Sequence: $CC_SEQUENCE,"; then
    log "$CC_NAME sequence $CC_SEQUENCE is committed on $CHANNEL"
    return 0
  fi
  local common=(--channelID "$CHANNEL" --name "$CC_NAME" --version "$CC_VERSION" --sequence "$CC_SEQUENCE"
    --signature-policy "$POLICY" --collections-config "$TOOL_DIR/collections_config.json")
  # shellcheck disable=SC2046 # orderer_flags is a list of flags on purpose
  for org in "${ORGS[@]}"; do
    log "$org approves $CC_NAME $CC_VERSION (sequence $CC_SEQUENCE)"
    peer_as "$org" lifecycle chaincode approveformyorg $(orderer_flags) "${common[@]}" --package-id "$id"
  done
  peer_as PlatformOrg lifecycle chaincode checkcommitreadiness "${common[@]}" --output json
  local peers=()
  for org in "${ORGS[@]}"; do
    peers+=(--peerAddresses "$(node_addr "$(peer_host "$org")" "${PEER_PORT[$org]}")"
      --tlsRootCertFiles "$(org_dir "$org")/peers/$(peer_host "$org")/tls/ca.crt")
  done
  log "committing $CC_NAME on $CHANNEL"
  # shellcheck disable=SC2046
  peer_as PlatformOrg lifecycle chaincode commit $(orderer_flags) "${common[@]}" "${peers[@]}"
  peer_as PlatformOrg lifecycle chaincode querycommitted --channelID "$CHANNEL" --name "$CC_NAME"
}

# --- 5. discovery -------------------------------------------------------------------------------------

discover_as() {
  local org=$1
  shift
  local dir
  dir="$(org_dir "$org")"
  fab_env -- discover --peerTLSCA "$dir/peers/$(peer_host "$org")/tls/ca.crt" \
    --userKey "$dir/users/Admin@$(domain "$org")/msp/keystore/key.pem" \
    --userCert "$dir/users/Admin@$(domain "$org")/msp/signcerts/cert.pem" \
    --MSP "$org" "$@" --server "$(node_addr "$(peer_host "$org")" "${PEER_PORT[$org]}")"
}

# Peers started together find each other through gossip only after a while; until every peer is known,
# discovery cannot offer the endorsers the policy needs and the first submits fail. Wait for both.
step_discovery() {
  local deadline=$((SECONDS + DISCOVERY_TIMEOUT)) org ok
  log "waiting for gossip and discovery (up to ${DISCOVERY_TIMEOUT}s)"
  while ((SECONDS < deadline)); do
    ok=1
    for org in "${ORGS[@]}"; do
      local n
      n="$(discover_as "$org" peers --channel "$CHANNEL" 2>/dev/null | grep -c '"Endpoint"' || true)"
      if [[ "$n" -lt ${#ORGS[@]} ]]; then
        ok=0
        break
      fi
      discover_as "$org" endorsers --channel "$CHANNEL" --chaincode "$CC_NAME" >/dev/null 2>&1 || {
        ok=0
        break
      }
    done
    if ((ok)); then
      log "every peer sees ${#ORGS[@]} peers and discovery satisfies the endorsement policy"
      return 0
    fi
    sleep 2
  done
  die "discovery did not converge within ${DISCOVERY_TIMEOUT}s (peer logs: $LOGS_DIR or docker compose logs)"
}

# --- 6. connection settings ---------------------------------------------------------------------------

# The org's CA for the platform's identity store (which issues its users, peers and device certificates
# from it), as a "ca" member; empty when none is found. Whichever CA the org's MSP has as its root: the Fabric
# CA server's (CRYPTO=ca; its keystore also holds the TLS key, the store takes the key that matches) or
# cryptogen's ca/ folder.
settings_ca() {
  local org=$1 dom rel root
  dom="$(domain "$org")"
  rel="organizations/peerOrganizations/$dom"
  root="$(find "$BUILD_DIR/$rel/msp/cacerts" -type f 2>/dev/null | head -n 1 || true)"
  local fabric_ca="fabric-ca/${SHORT[$org]}" cryptogen="$rel/ca"
  if [[ -n "$root" ]] && cmp -s "$root" "$BUILD_DIR/$fabric_ca/ca-cert.pem"; then
    printf '"ca": { "certPath": "%s", "keyPath": "%s" }' "$fabric_ca/ca-cert.pem" "$fabric_ca/msp/keystore"
  elif [[ -n "$root" ]] && cmp -s "$root" "$BUILD_DIR/$cryptogen/ca.$dom-cert.pem"; then
    printf '"ca": { "certPath": "%s", "keyPath": "%s" }' "$cryptogen/ca.$dom-cert.pem" "$cryptogen/priv_sk"
  else
    log "no CA of $org matches its MSP root ($BUILD_DIR/$rel/msp/cacerts): its platform users will be refused"
  fi
}

# One org entry of the settings file; paths relative to build/.
settings_org() {
  local org=$1 endpoint_host=$2 rel ca
  rel="organizations/peerOrganizations/$(domain "$org")"
  ca="$(settings_ca "$org")"
  [[ -n "$ca" ]] && ca=",
      $ca"
  cat <<EOF
    "$org": {
      "peers": [
        {
          "endpoint": "$endpoint_host:${PEER_PORT[$org]}",
          "hostAlias": "$(peer_host "$org")",
          "tlsRootCertPath": "$rel/peers/$(peer_host "$org")/tls/ca.crt"
        }
      ],
      "identity": {
        "certPath": "$rel/users/Admin@$(domain "$org")/msp/signcerts/cert.pem",
        "keyPath": "$rel/users/Admin@$(domain "$org")/msp/keystore/key.pem"
      }$ca
    }
EOF
}

settings_file() {
  local endpoint_of=$1 # "localhost" or "container"
  local first=1 org entry name uorg role
  echo "{"
  echo "  \"channel\": \"$CHANNEL\","
  echo "  \"chaincode\": \"$CC_NAME\","
  echo "  \"observerMspId\": \"PlatformOrg\","
  echo "  \"organizations\": {"
  for org in "${ORGS[@]}"; do
    ((first)) || echo "    ,"
    first=0
    if [[ "$endpoint_of" == container ]]; then settings_org "$org" "$(peer_host "$org")"; else settings_org "$org" 127.0.0.1; fi
  done
  echo "  },"
  echo "  \"users\": {"
  first=1
  for entry in "${USERS[@]}"; do
    read -r name uorg role <<<"$entry"
    local rel
    rel="organizations/peerOrganizations/$(domain "$uorg")/users/$name@$(domain "$uorg")/msp"
    [[ -f "$BUILD_DIR/$rel/signcerts/cert.pem" ]] || continue
    ((first)) || echo "    ,"
    first=0
    echo "    \"$name\": { \"mspId\": \"$uorg\", \"certPath\": \"$rel/signcerts/cert.pem\", \"keyPath\": \"$rel/keystore/key.pem\" }"
  done
  echo "  }"
  echo "}"
}

step_settings() {
  settings_file localhost >"$BUILD_DIR/connection.json"
  settings_file container >"$BUILD_DIR/connection.docker.json"
  log "connection settings: $BUILD_DIR/connection.json (host) and connection.docker.json (platform container)"
  log "run the platform on it: LEDGER=fabric FABRIC_CONNECTION=$BUILD_DIR/connection.json npm start"
  [[ "$CRYPTO" == cryptogen ]] &&
    log "CRYPTO=cryptogen: the users in settings' \"users\" have no role attribute (role-checked transactions refuse them); the platform's own users, issued from the CAs under \"ca\", have theirs"
  return 0
}

# --- down ---------------------------------------------------------------------------------------------

step_down() {
  if [[ "$MODE" == docker ]]; then
    "${COMPOSE[@]}" stop "${FABRIC_SERVICES[@]}"
    "${COMPOSE[@]}" rm -f "${FABRIC_SERVICES[@]}"
    return
  fi
  local f pid stopped=()
  for f in "$PIDS_DIR"/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    # Only processes this script started, by their recorded id, and only while that id still runs one of the
    # programs it starts (a recycled id is left alone).
    if running_ours "$pid"; then
      kill "$pid" 2>/dev/null && stopped+=("$pid") && log "stopping $(basename "$f" .pid) ($pid)"
    fi
    rm -f "$f"
  done
  # Wait for them to exit, so their ports are free for the next `up`.
  local i
  for i in $(seq 1 100); do
    local alive=0
    for pid in "${stopped[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.2
  done
  for pid in "${stopped[@]}"; do kill -9 "$pid" 2>/dev/null && log "killed $pid (did not stop within 20 s)"; done
  return 0
}

# A recorded pid that still runs one of the programs `up` starts.
running_ours() {
  local pid=$1 exe
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$exe" =~ (^|/)(peer|orderer|fabric-ca-server|node)\  ]]
}

# Whether the node recorded under `name` is running (MODE=local).
node_running() {
  local f="$PIDS_DIR/$1.pid"
  [[ -f "$f" ]] && running_ours "$(cat "$f")"
}

step_clean() {
  step_down
  if [[ "$MODE" == docker ]]; then
    # Only the Fabric nodes' ledgers: the default stack's volumes stay.
    local v
    for v in "${FABRIC_VOLUMES[@]}"; do docker volume rm "${PROJECT}_$v" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$BUILD_DIR"
}

main() {
  local cmd=${1:-up}
  # Writing the settings reads build/ only: it runs where no Fabric tools are installed.
  [[ "$cmd" == settings ]] || check_tools
  case "$cmd" in
  up)
    step_crypto
    step_nodes
    step_channel
    step_deploy
    step_discovery
    step_settings
    ;;
  crypto) step_crypto ;;
  nodes) step_nodes ;;
  channel) step_channel ;;
  deploy) step_deploy ;;
  discovery) step_discovery ;;
  settings) step_settings ;;
  down) step_down ;;
  clean) step_clean ;;
  *) die "usage: MODE=docker|local CRYPTO=ca|cryptogen $0 up|down|clean|crypto|nodes|channel|deploy|discovery|settings" ;;
  esac
}

main "$@"
