import { AnchorsContract } from './contracts/anchors-contract.js';
import { DevicesContract } from './contracts/devices-contract.js';
import { OrgsContract } from './contracts/orgs-contract.js';
import { RecallsContract } from './contracts/recalls-contract.js';
import { WorkOrdersContract } from './contracts/work-orders-contract.js';

export type { AnchorRecord, BatchTotals } from './contracts/anchors-contract.js';
export {
  type CertificationAnswer,
  type DeviceAction,
  DeviceActions,
  type DeviceRecord,
  type PossessionProof,
  type StatusChange,
} from './contracts/devices-contract.js';
export type { OrgRecord } from './contracts/orgs-contract.js';
export {
  type RecallRecord,
  type RecallScope,
  type RecallStatus,
  RecallStatuses,
  type RecallStep,
} from './contracts/recalls-contract.js';
export {
  type LotRecord,
  type MilestoneRecord,
  type WorkOrderRecord,
  type WorkOrderStatus,
  WorkOrderStatuses,
} from './contracts/work-orders-contract.js';
export type { Actor } from './lib/access.js';
export { Collections, KeyPrefixes, TimeIndexes, TRANSIENT_TERMS_KEY } from './lib/keys.js';
export type { Page } from './lib/pages.js';
export { AnchorsContract, DevicesContract, OrgsContract, RecallsContract, WorkOrdersContract };

/** The fabric-contract-api entry point: `fabric-chaincode-node start|server` loads `contracts` from package.json's main. */
export const contracts = [OrgsContract, DevicesContract, WorkOrdersContract, AnchorsContract, RecallsContract];
