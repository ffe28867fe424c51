/** Ledger organisations (MSP ids) of the demo consortium and the roles their users hold. */
export const Orgs = {
  platform: 'PlatformOrg',
  brand: 'BrandOrg',
  factory1: 'Factory1Org',
  factory2: 'Factory2Org',
  finance: 'FinanceOrg',
} as const;
export type OrgMspId = (typeof Orgs)[keyof typeof Orgs] | (string & {});

/** What kind of participant an org is; decides which API routes and ledger transactions it may use. */
export const OrgKinds = {
  platform: 'platform',
  brand: 'brand',
  factory: 'factory',
  finance: 'finance',
} as const;
export type OrgKind = (typeof OrgKinds)[keyof typeof OrgKinds];

/** Roles carried by a user's certificate (Fabric CA attribute `role`) and by API tokens. */
export const Roles = {
  admin: 'admin',
  brandManager: 'brand-manager',
  factoryManager: 'factory-manager',
  certifier: 'certifier',
  financier: 'financier',
  logistics: 'logistics',
  peer: 'peer',
  device: 'device',
} as const;
export type Role = (typeof Roles)[keyof typeof Roles];

/** The certificate attribute name that carries the role (Fabric CA `attrs` extension). */
export const ROLE_ATTRIBUTE = 'role';
export const ORG_KIND_ATTRIBUTE = 'orgKind';
