import { canonicalJson, type OrgKind, OrgKinds, Roles } from '@c2m/shared';
import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { type Actor, actor, requirePlatformRole } from '../lib/access.js';
import { ErrorCodes, fail } from '../lib/errors.js';
import { KeyPrefixes, recordKey } from '../lib/keys.js';
import { readRecord, writeRecord } from '../lib/marshal.js';
import { txTime } from '../lib/time.js';
import { id, oneOf, text } from '../lib/validate.js';

export interface OrgRecord {
  readonly docType: 'org';
  readonly mspId: string;
  readonly kind: OrgKind;
  readonly name: string;
  readonly registeredAt: string;
  readonly registeredBy: Actor;
}

const KINDS = Object.values(OrgKinds);

/** The consortium registry: which MSP is a brand, a factory or a financier decides what it may do elsewhere. */
@Info({ title: 'Orgs', description: 'Consortium registry' })
export class OrgsContract extends Contract {
  constructor() {
    super('Orgs');
  }

  @Transaction()
  @Returns('string')
  async RegisterOrg(ctx: Context, mspId: string, kind: string, name: string): Promise<string> {
    const by = requirePlatformRole(ctx, Roles.admin, 'RegisterOrg');
    const record: OrgRecord = {
      docType: 'org',
      mspId: id('mspId', mspId),
      kind: oneOf('kind', kind, KINDS),
      name: text('name', name, 200),
      registeredAt: txTime(ctx),
      registeredBy: actor(by),
    };
    const key = recordKey(ctx, KeyPrefixes.org, record.mspId);
    if (await readRecord(ctx, key)) fail(ErrorCodes.ALREADY_EXISTS, `org ${record.mspId} is already registered`);
    return writeRecord(ctx, key, record);
  }

  @Transaction(false)
  @Returns('string')
  async GetOrg(ctx: Context, mspId: string): Promise<string> {
    const record = await readRecord<OrgRecord>(ctx, recordKey(ctx, KeyPrefixes.org, id('mspId', mspId)));
    if (!record) fail(ErrorCodes.NOT_FOUND, `org ${mspId} is not registered`);
    return canonicalJson(record);
  }
}
