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
