export { canonicalJson } from './canonical.js';
export {
  DEVICE_TOPIC_PREFIX,
  type DeviceEventType,
  DeviceEventTypes,
  type DeviceStatus,
  DeviceStatuses,
  deviceTopic,
  LedgerEvents,
  type Milestone,
  Milestones,
  POSSESSION_CHALLENGE_MAX_AGE_MS,
  POSSESSION_CHALLENGE_TAG,
  type PossessionChallenge,
  parsePossessionChallenge,
  possessionChallengeText,
} from './domain.js';
export {
  BIZ_STEPS,
  BIZ_TRANSACTION_TYPES,
  CBV_WEB_PREFIX,
  COMPONENTS,
  DISPOSITIONS,
  ERROR_REASONS,
  GS1_VOC_PREFIX,
  MEASUREMENT_TYPES,
  SENSOR_ALERT_TYPES,
  SOURCE_DESTINATION_TYPES,
} from './epcis/cbv-vocabulary.js';
export { gs1CheckDigit, normaliseGs1Uri } from './epcis/dl-normalise.js';
export {
  documentEvents,
  type EventHashOptions,
  epcisEventHash,
  eventHashPreImage,
  type JsonLdContext,
  MAX_EVENT_DEPTH,
} from './epcis/event-hash.js';
export { CodedError, codedMessage, type ErrorCode, ErrorCodes, parseCodedMessage } from './errors.js';
export {
  type BlockSummary,
  type ChaincodeEvent,
  type Ledger,
  type LedgerCheckpoint,
  type LedgerIdentity,
  type MessageSigner,
  type ProposalOptions,
  type Signer,
  type SubmittedTransaction,
  type TransactionInfo,
  type TxValidationCode,
  TxValidationCodes,
} from './ledger.js';
export {
  ORG_KIND_ATTRIBUTE,
  type OrgKind,
  OrgKinds,
  type OrgMspId,
  Orgs,
  ROLE_ATTRIBUTE,
  type Role,
  Roles,
} from './orgs.js';
export type {
  BatchTotals,
  BundleAnchor,
  BundleDevice,
  BundleDeviceState,
  BundleEpcisEvent,
  BundleEvent,
  BundleTransaction,
  BundleVerification,
  ProofBundleV2,
  ProofCheck,
} from './proof/bundle.js';
export { fromBase64, toBase64 } from './proof/bytes.js';
export {
  EPCIS_MESSAGE_TAG,
  type EpcisSignedMessage,
  epcisMessage,
  parseEpcisMessage,
} from './proof/epcis-message.js';
export { compositeKey } from './proof/fabric-tx.js';
export {
  BLOCK_SIGNATURE_TAG,
  type BlockHeader,
  type BlockProof,
  blockHeaderHash,
  blockSignedBytes,
  type OrdererSignature,
  type PinnedTrust,
  ProofError,
  type ProvenTransaction,
  recordInProof,
  type TransactionProof,
  TrustedIdentities,
  TX_PROOF_FORMAT,
  verifyTransactionProof,
  writtenRecord,
} from './proof/ledger-proof.js';
export {
  defaultPolicy,
  evaluatePolicy,
  formatPolicy,
  type Policy,
  type PolicyIdentity,
  PolicyParseError,
  type PrincipalRole,
  parsePolicy,
  policyFromSignaturePolicyEnvelope,
  policyOrgs,
} from './proof/policy.js';
export {
  certifiedAt,
  DEFAULT_TIME_RULES,
  leafHash,
  merkleRoot,
  type TimeRules,
  timeProblem,
  type VerifyBundleOptions,
  verifyBundle,
} from './proof/verify-bundle.js';
