export type {
  AnchorRecord,
  CertificationAnswer,
  DeviceAction,
  DeviceRecord,
  MilestoneRecord,
  OrgRecord,
  PossessionProof,
  RecallRecord,
  RecallScope,
  RecallStatus,
  StatusChange,
  WorkOrderRecord,
  WorkOrderStatus,
} from '@c2m/chaincode';
export type {
  BlockSummary,
  ChaincodeEvent,
  Ledger,
  LedgerCheckpoint,
  LedgerIdentity,
  ProposalOptions,
  SubmittedTransaction,
  TransactionInfo,
} from '@c2m/shared';
export type { BatchAnchor } from './contracts/anchors.js';
export { type AnchorsContract, anchorsContract } from './contracts/anchors.js';
export type { Certification, DeviceHistoryEntry, DeviceRegistration, KeyRotation } from './contracts/devices.js';
export { type DevicesContract, devicesContract } from './contracts/devices.js';
export { type OrgsContract, orgsContract } from './contracts/orgs.js';
export { type RecallOpening, type RecallsContract, recallsContract } from './contracts/recalls.js';
export type { Committed, Paged, PageOptions } from './contracts/submit.js';
export {
  termsHash,
  type WorkOrderCommitment,
  type WorkOrdersContract,
  workOrdersContract,
} from './contracts/work-orders.js';
export {
  CommitError,
  EndorseError,
  type EndorsementDetail,
  LedgerCorruptError,
  LedgerError,
  SubmitError,
} from './errors.js';
export { blockHeaderHash, summarizeBlock } from './fabric/blocks.js';
export { C2M_COLLECTIONS, C2M_ENDORSEMENT_POLICY, CONSORTIUM_ORGS } from './fabric/channel-config.js';
export { type FabricLedgerOptions, openFabricLedger } from './fabric/fabric-ledger.js';
export { toLedgerError, validationCodeName } from './fabric/gateway-errors.js';
export { loadIdentityFiles, loadMspIdentity } from './fabric/msp-identity.js';
export {
  caMaterialFromSettings,
  DEFAULT_DEADLINES,
  type FabricCaFiles,
  type FabricDeadlines,
  type FabricIdentityFiles,
  type FabricPeerSettings,
  type FabricSettings,
  FabricSettingsError,
  type FabricSettingsFile,
  FabricSettingsSchema,
  fabricConnectionPath,
  loadFabricSettings,
  resolveFabricSettings,
  validateFabricSettings,
} from './fabric/settings.js';
export { type EmbeddedLedgerOptions, openEmbeddedLedger } from './internal/embedded-ledger.js';
export { quietFabricLogs } from './internal/quiet-logs.js';
export type { CollectionConfig } from './internal/simulator.js';
export {
  evaluatePolicy,
  formatPolicy,
  type Policy,
  type PolicyIdentity,
  parsePolicy,
  policyFromSignaturePolicyEnvelope,
} from './policy.js';
