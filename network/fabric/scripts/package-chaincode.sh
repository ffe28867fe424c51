#!/usr/bin/env bash
# Builds the chaincode-as-a-service package: build/chaincode/<label>.tar.gz holding metadata.json
# (type ccaas) and code.tar.gz (connection.json: where peers dial the chaincode server).
#
#   CHAINCODE_ADDRESS=c2m-chaincode:9999 network/fabric/scripts/package-chaincode.sh   # docker default
#   CHAINCODE_ADDRESS=127.0.0.1:9999     network/fabric/scripts/package-chaincode.sh   # MODE=local
#
# The tarballs are byte-for-byte reproducible (sorted names, fixed mtime and owner, gzip -n), so the
# package id (label:sha256 of the file) stays the same for the same address and label.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHAINCODE_ADDRESS="${CHAINCODE_ADDRESS:-c2m-chaincode:9999}"
[[ "$CHAINCODE_ADDRESS" =~ ^[^[:space:]:]+:[0-9]{1,5}$ ]] || die "CHAINCODE_ADDRESS must be host:port"

out="$BUILD_DIR/chaincode"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/code" "$work/pkg"

sed "s#\"address\": \"[^\"]*\"#\"address\": \"$CHAINCODE_ADDRESS\"#" "$FABRIC_DIR/chaincode/connection.json" >"$work/code/connection.json"
sed "s#\"label\": \"[^\"]*\"#\"label\": \"$CC_LABEL\"#" "$FABRIC_DIR/chaincode/metadata.json" >"$work/pkg/metadata.json"
grep -q '"type": "ccaas"' "$work/pkg/metadata.json" || die "metadata.json must say type ccaas"

det_tar() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf - "${@:2}" | gzip -n; }
det_tar "$work/code" connection.json >"$work/pkg/code.tar.gz"
det_tar "$work/pkg" metadata.json code.tar.gz >"$out/$CC_LABEL.tar.gz"

log "chaincode package $out/$CC_LABEL.tar.gz (peers dial $CHAINCODE_ADDRESS)"
echo "$CC_LABEL:$(sha256sum "$out/$CC_LABEL.tar.gz" | cut -d' ' -f1)"
