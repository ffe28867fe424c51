/**
 * Endorsement policies in Fabric's string syntax (the `--signature-policy`
 * of `peer lifecycle chaincode approveformyorg`):
 *
 *   AND('A.peer', OR('B.member', 'C.admin')), OutOf(2, 'A.peer', 'B.peer', 'C.peer')
 *
 * Evaluation follows Fabric's cauthdsl: each signature satisfies at most one
 * principal, and sub-policies are tried in order, greedily, each claiming
 * the signatures it used. Lives in shared so the engine, the offline proof
 * verifier and the browser apply one rule; `@c2m/network` re-exports it.
 */
import { intField, readFields, repeatedBytes, stringField } from './protobuf.js';

export type PrincipalRole = 'member' | 'peer' | 'admin' | 'client' | 'orderer';

export type Policy =
  | { readonly kind: 'principal'; readonly mspId: string; readonly role: PrincipalRole }
  | { readonly kind: 'outOf'; readonly n: number; readonly rules: readonly Policy[] };

/** A verified signer, as policy evaluation sees it. */
export interface PolicyIdentity {
  readonly mspId: string;
  readonly roles: ReadonlySet<string>;
}

export class PolicyParseError extends Error {
  override readonly name = 'PolicyParseError';
}

const ROLES: readonly PrincipalRole[] = ['member', 'peer', 'admin', 'client', 'orderer'];

export function parsePolicy(text: string): Policy {
  let pos = 0;
  const ws = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (ch: string) => {
    ws();
    if (text[pos] !== ch) throw new PolicyParseError(`expected '${ch}' at ${pos} in ${text}`);
    pos++;
  };
  const parseRule = (): Policy => {
    ws();
    const quote = text[pos];
    if (quote === "'" || quote === '"') {
      const end = text.indexOf(quote, pos + 1);
      if (end < 0) throw new PolicyParseError(`unterminated principal at ${pos}`);
      const body = text.slice(pos + 1, end);
      pos = end + 1;
      const dot = body.lastIndexOf('.');
      const mspId = body.slice(0, dot);
      const role = body.slice(dot + 1) as PrincipalRole;
      if (dot <= 0 || !ROLES.includes(role)) throw new PolicyParseError(`bad principal '${body}'`);
      return { kind: 'principal', mspId, role };
    }
    const m = /^(AND|OR|OutOf)\s*\(/i.exec(text.slice(pos));
    if (!m) throw new PolicyParseError(`expected AND, OR, OutOf or a principal at ${pos} in ${text}`);
    const op = m[1]!.toLowerCase();
    pos += m[0].length;
    let n = -1;
    if (op === 'outof') {
      ws();
      const num = /^\d+/.exec(text.slice(pos));
      if (!num) throw new PolicyParseError(`OutOf needs a count at ${pos}`);
      n = Number(num[0]);
      pos += num[0].length;
      expect(',');
    }
    const rules: Policy[] = [parseRule()];
    ws();
    while (text[pos] === ',') {
      pos++;
      rules.push(parseRule());
      ws();
    }
    expect(')');
    if (op === 'and') n = rules.length;
    if (op === 'or') n = 1;
    if (n < 0 || n > rules.length) throw new PolicyParseError(`OutOf(${n}) over ${rules.length} rules`);
    return { kind: 'outOf', n, rules };
  };
  const policy = parseRule();
  ws();
  if (pos !== text.length) throw new PolicyParseError(`unexpected '${text.slice(pos)}'`);
  return policy;
}

export function formatPolicy(p: Policy): string {
  if (p.kind === 'principal') return `'${p.mspId}.${p.role}'`;
  return `OutOf(${p.n}, ${p.rules.map(formatPolicy).join(', ')})`;
}

function satisfiesPrincipal(id: PolicyIdentity, mspId: string, role: PrincipalRole): boolean {
  if (id.mspId !== mspId) return false;
  return role === 'member' || id.roles.has(role);
}

function evaluateWith(p: Policy, ids: readonly PolicyIdentity[], used: boolean[]): boolean {
  if (p.kind === 'principal') {
    for (let i = 0; i < ids.length; i++) {
      if (!used[i] && satisfiesPrincipal(ids[i]!, p.mspId, p.role)) {
        used[i] = true;
        return true;
      }
    }
    return false;
  }
  let verified = 0;
  for (const rule of p.rules) {
    const trial = [...used];
    if (evaluateWith(rule, ids, trial)) {
      verified++;
      for (let i = 0; i < used.length; i++) used[i] = trial[i]!;
    }
  }
  return verified >= p.n;
}

/** True when the signers satisfy the policy. Signers should be de-duplicated by identity first, as Fabric does. */
export function evaluatePolicy(p: Policy, signers: readonly PolicyIdentity[]): boolean {
  return evaluateWith(
    p,
    signers,
    signers.map(() => false),
  );
}

/** Org MSP ids named anywhere in the policy. */
export function policyOrgs(p: Policy): string[] {
  if (p.kind === 'principal') return [p.mspId];
  return [...new Set(p.rules.flatMap(policyOrgs))];
}

/**
 * The default for the demo consortium: the platform's peer runs every rule,
 * and one peer of another org co-signs, so neither the operator nor any
 * single member can write the ledger alone.
 */
export function defaultPolicy(platformMspId: string, otherMspIds: readonly string[]): string {
  const others = otherMspIds.filter((m) => m !== platformMspId);
  if (others.length === 0) return `AND('${platformMspId}.peer')`;
  return `AND('${platformMspId}.peer', OutOf(1, ${others.map((m) => `'${m}.peer'`).join(', ')}))`;
}

const MSP_ROLES: Readonly<Record<number, PrincipalRole>> = {
  0: 'member',
  1: 'admin',
  2: 'client',
  3: 'peer',
  4: 'orderer',
};

/**
 * Reads a key-level endorsement policy as chaincode sets it (`setStateValidationParameter` with the bytes of
 * fabric-shim's `KeyEndorsementPolicy.getPolicy()`): a `common.SignaturePolicyEnvelope` of MSP-role principals
 * (version 1, rule 2, identities 3; MSPPrincipal: classification 1 (ROLE = 0), principal 2; MSPRole: msp 1,
 * role 2; SignaturePolicy: signed_by 1 | n_out_of 2 { n 1, rules 2 }).
 * Throws PolicyParseError for anything else (other principal kinds, out-of-range references).
 */
export function policyFromSignaturePolicyEnvelope(bytes: Uint8Array): Policy {
  let envelope: ReturnType<typeof readFields>;
  try {
    envelope = readFields(bytes);
  } catch (err) {
    throw new PolicyParseError(`not a SignaturePolicyEnvelope: ${(err as Error).message}`);
  }
  const principals = repeatedBytes(envelope, 3).map((p, i) => {
    const principal = readFields(p);
    if (intField(principal, 1) !== 0) throw new PolicyParseError(`principal ${i} is not an MSP role`);
    const role = readFields(principal.find((f) => f.field === 2)?.bytes ?? new Uint8Array(0));
    const name = MSP_ROLES[intField(role, 2)];
    if (!name) throw new PolicyParseError(`principal ${i} has unknown role ${intField(role, 2)}`);
    return { kind: 'principal', mspId: stringField(role, 1), role: name } as const;
  });
  const convert = (ruleBytes: Uint8Array | undefined, depth: number): Policy => {
    if (!ruleBytes || depth > 32) throw new PolicyParseError('policy rule missing or nested too deeply');
    const rule = readFields(ruleBytes);
    const signedBy = rule.find((f) => f.field === 1 && f.wire === 0);
    const nOutOf = rule.find((f) => f.field === 2 && f.wire === 2);
    if (signedBy) {
      const principal = principals[signedBy.int];
      if (!principal) throw new PolicyParseError(`rule refers to missing principal ${signedBy.int}`);
      return principal;
    }
    if (!nOutOf) throw new PolicyParseError('rule is neither signed_by nor n_out_of');
    const inner = readFields(nOutOf.bytes);
    const n = intField(inner, 1);
    const rules = repeatedBytes(inner, 2).map((r) => convert(r, depth + 1));
    if (n > rules.length) throw new PolicyParseError(`OutOf(${n}) over ${rules.length} rules`);
    return { kind: 'outOf', n, rules };
  };
  return convert(envelope.find((f) => f.field === 2 && f.wire === 2)?.bytes, 0);
}
