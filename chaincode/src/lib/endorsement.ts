import type { Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';

/**
 * Key-level (state-based) endorsement: from now on, a write to `key` needs the peers of every one of
 * `owners` to endorse it, instead of the chaincode-wide policy. Used where a record belongs to a few
 * orgs (a work order to its brand and factory, an anchor to the platform and the factory), so that
 * neither the operator nor a third member can rewrite it alone, and its owners need no one else.
 *
 * The orgs are sorted so every endorser builds the same policy bytes. The policy takes effect when
 * this transaction commits; the transaction itself is endorsed under the key's current policy.
 */
export async function setRecordOwners(ctx: Context, key: string, owners: readonly string[]): Promise<void> {
  await ctx.stub.setStateValidationParameter(key, ownersPolicy([...new Set(owners)].sort()));
}

/**
 * fabric-shim builds the policy through protobuf on every call, a noticeable share of a registration's cost;
 * the bytes are a pure function of the sorted owners, so each set is built once per chaincode process.
 * Callers get a copy, so nothing downstream can alter the cached bytes.
 */
const policyBytes = new Map<string, Uint8Array>();
function ownersPolicy(sortedOwners: readonly string[]): Uint8Array {
  const cacheKey = sortedOwners.join('\u0000');
  let bytes = policyBytes.get(cacheKey);
  if (!bytes) {
    const policy = new KeyEndorsementPolicy();
    policy.addOrgs('PEER', ...sortedOwners);
    bytes = Uint8Array.from(policy.getPolicy());
    policyBytes.set(cacheKey, bytes);
  }
  return Uint8Array.from(bytes);
}

/** The orgs a key-level policy names (sorted), or an empty list when the key has none. */
export async function recordOwners(ctx: Context, key: string): Promise<string[]> {
  const bytes = await ctx.stub.getStateValidationParameter(key);
  if (!bytes || bytes.length === 0) return [];
  return new KeyEndorsementPolicy(bytes).listOrgs().sort();
}
