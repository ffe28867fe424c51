/** Names from the domain that cross package boundaries. */

/** Device lifecycle on the ledger. */
export const DeviceStatuses = {
  registered: 'REGISTERED',
  certified: 'CERTIFIED',
  suspended: 'SUSPENDED',
  revoked: 'REVOKED',
} as const;
export type DeviceStatus = (typeof DeviceStatuses)[keyof typeof DeviceStatuses];

/** Work-order milestones, in the order they must happen. */
export const Milestones = ['PRODUCED', 'QC_PASSED', 'SHIPPED', 'DELIVERED'] as const;
export type Milestone = (typeof Milestones)[number];

/** Device message types (the `type` field of a signed device message). */
export const DeviceEventTypes = {
  productionCount: 'production.count',
  machineState: 'machine.state',
  qualityMeasurement: 'quality.measurement',
  sensorReading: 'sensor.reading',
} as const;
export type DeviceEventType = (typeof DeviceEventTypes)[keyof typeof DeviceEventTypes];

/** Chaincode event names, emitted with the bytes written. */
export const LedgerEvents = {
  deviceRegistered: 'DeviceRegistered',
  deviceCertified: 'DeviceCertified',
  deviceStatusChanged: 'DeviceStatusChanged',
  workOrderCommitted: 'WorkOrderCommitted',
  workOrderAccepted: 'WorkOrderAccepted',
  milestoneRecorded: 'MilestoneRecorded',
  productionStarted: 'ProductionStarted',
  batchAnchored: 'BatchAnchored',
} as const;

/** MQTT topic for device messages: c2m/v1/{factory}/{device}/events. */
export const DEVICE_TOPIC_PREFIX = 'c2m/v1';
export function deviceTopic(factory: string, deviceId: string): string {
  return `${DEVICE_TOPIC_PREFIX}/${factory}/${deviceId}/events`;
}

/**
 * Proof of possession before certification: the platform issues a challenge,
 * the device signs its UTF-8 bytes (ES256, r||s, base64url, as device
 * messages) with its key, and the chaincode verifies the signature against the
 * key on the ledger. The text starts with a fixed tag and is not JSON, so a
 * device never signs something that could pass as one of its event messages,
 * and device tools can refuse to sign anything else. Device ids, ISO times and
 * base64url nonces contain no spaces, so the fields split unambiguously.
 */
export const POSSESSION_CHALLENGE_TAG = 'C2M-POP/1';
/** How long after its issue time a challenge may be used on the ledger (the platform's own expiry is shorter). */
export const POSSESSION_CHALLENGE_MAX_AGE_MS = 15 * 60_000;

export interface PossessionChallenge {
  readonly deviceId: string;
  /** ISO 8601 UTC. */
  readonly issuedAt: string;
  /** base64url, at least 16 bytes of randomness. */
  readonly nonce: string;
}

export function possessionChallengeText(c: PossessionChallenge): string {
  return `${POSSESSION_CHALLENGE_TAG} ${c.deviceId} ${c.issuedAt} ${c.nonce}`;
}

export function parsePossessionChallenge(text: string): PossessionChallenge | undefined {
  const parts = text.split(' ');
  if (parts.length !== 4 || parts[0] !== POSSESSION_CHALLENGE_TAG) return undefined;
  const [, deviceId, issuedAt, nonce] = parts as [string, string, string, string];
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/.test(deviceId)) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(issuedAt) || Number.isNaN(Date.parse(issuedAt)))
    return undefined;
  if (!/^[A-Za-z0-9_-]{22,128}$/.test(nonce)) return undefined;
  return { deviceId, issuedAt, nonce };
}
