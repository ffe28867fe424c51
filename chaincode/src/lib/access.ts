import { type OrgKind, OrgKinds, Orgs, ROLE_ATTRIBUTE } from '@c2m/shared';
import type { Context } from 'fabric-contract-api';
import { ErrorCodes, fail } from './errors.js';
import { KeyPrefixes, recordKey } from './keys.js';
import { readRecord } from './marshal.js';

/** Who did something, as recorded on the ledger: the MSP and the certificate's common name. */
export interface Actor {
  readonly mspId: string;
  readonly cn: string;
}

export interface Caller extends Actor {
  readonly role: string | null;
}

/** The caller comes only from the signed proposal's creator, never from arguments. */
export function caller(ctx: Context): Caller {
  const id = ctx.clientIdentity.getID();
  // getID() is "x509::/C=../CN=name::/issuer..."; the subject is the second part.
  const subject = id.split('::')[1] ?? '';
  const cn = /\/CN=([^/]*)/.exec(subject)?.[1] ?? '';
  return { mspId: ctx.clientIdentity.getMSPID(), cn, role: ctx.clientIdentity.getAttributeValue(ROLE_ATTRIBUTE) };
}

export function actor(c: Caller): Actor {
  return { mspId: c.mspId, cn: c.cn };
}

/** PlatformOrg is the consortium's bootstrap member; every other org's kind comes from the registry. */
export async function orgKind(ctx: Context, mspId: string): Promise<OrgKind | undefined> {
  if (mspId === Orgs.platform) return OrgKinds.platform;
  const org = await readRecord<{ kind: OrgKind }>(ctx, recordKey(ctx, KeyPrefixes.org, mspId));
  return org?.kind;
}

export function requirePlatformRole(ctx: Context, role: string, action: string): Caller {
  const c = caller(ctx);
  if (c.mspId !== Orgs.platform || c.role !== role) {
    fail(
      ErrorCodes.ACCESS_DENIED,
      `${action} needs role ${role} of ${Orgs.platform}; caller is ${c.mspId}/${c.role ?? 'no role'}`,
    );
  }
  return c;
}

export async function requireOrgKind(ctx: Context, kind: OrgKind, action: string): Promise<Caller> {
  const c = caller(ctx);
  const actual = await orgKind(ctx, c.mspId);
  if (actual !== kind) {
    fail(ErrorCodes.ACCESS_DENIED, `${action} needs a ${kind} org; ${c.mspId} is ${actual ?? 'not registered'}`);
  }
  return c;
}
