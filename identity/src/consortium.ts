import { type OrgKind, OrgKinds, type OrgMspId, Orgs, type Role, Roles } from '@c2m/shared';

/** An organisation of the consortium: its MSP id, what kind of participant it is, and its names for the UI. */
export interface OrgDescription {
  readonly mspId: OrgMspId;
  readonly kind: OrgKind;
  readonly names: { readonly en: string; readonly zh: string };
}

/**
 * A user to enrol on first start. The password is only hashed, never stored; without one the user has a
 * ledger identity but no login through the store (services keep their own accounts, `services/src/auth/`).
 */
export interface UserSeed {
  readonly username: string;
  readonly password?: string;
  readonly mspId: OrgMspId;
  readonly role: Role;
  readonly displayName: string;
}

/** The demo consortium: a platform operator, one brand, two sock factories in the Ningbo cluster, one financier. */
export const demoConsortium: readonly OrgDescription[] = Object.freeze([
  {
    mspId: Orgs.platform,
    kind: OrgKinds.platform,
    names: { en: 'Ningbo Cluster C2M Platform', zh: '宁波产业集群C2M平台' },
  },
  { mspId: Orgs.brand, kind: OrgKinds.brand, names: { en: 'Lanyue Apparel', zh: '蓝悦服饰' } },
  { mspId: Orgs.factory1, kind: OrgKinds.factory, names: { en: 'Ningbo Sock Factory No. 1', zh: '宁波袜业一厂' } },
  { mspId: Orgs.factory2, kind: OrgKinds.factory, names: { en: 'Ningbo Sock Factory No. 2', zh: '宁波袜业二厂' } },
  {
    mspId: Orgs.finance,
    kind: OrgKinds.finance,
    names: { en: 'Yongjiang Supply Chain Finance', zh: '甬江供应链金融' },
  },
]);

const DEMO_PASSWORD = 'demo';

/** Demo users, password `demo`. `platform` is the platform's service identity that anchors event batches. */
export const demoUsers: readonly UserSeed[] = Object.freeze([
  {
    username: 'brand',
    password: DEMO_PASSWORD,
    mspId: Orgs.brand,
    role: Roles.brandManager,
    displayName: 'Lanyue brand manager',
  },
  {
    username: 'factory1',
    password: DEMO_PASSWORD,
    mspId: Orgs.factory1,
    role: Roles.factoryManager,
    displayName: 'Factory No. 1 manager',
  },
  {
    username: 'factory2',
    password: DEMO_PASSWORD,
    mspId: Orgs.factory2,
    role: Roles.factoryManager,
    displayName: 'Factory No. 2 manager',
  },
  {
    username: 'certifier',
    password: DEMO_PASSWORD,
    mspId: Orgs.platform,
    role: Roles.certifier,
    displayName: 'Platform device certifier',
  },
  {
    username: 'financier',
    password: DEMO_PASSWORD,
    mspId: Orgs.finance,
    role: Roles.financier,
    displayName: 'Yongjiang credit officer',
  },
  {
    username: 'platform',
    password: DEMO_PASSWORD,
    mspId: Orgs.platform,
    role: Roles.admin,
    displayName: 'Platform service',
  },
]);
