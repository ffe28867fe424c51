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
  batchAnchored: 'BatchAnchored',
} as const;

/** MQTT topic for device messages: c2m/v1/{factory}/{device}/events. */
export const DEVICE_TOPIC_PREFIX = 'c2m/v1';
export function deviceTopic(factory: string, deviceId: string): string {
  return `${DEVICE_TOPIC_PREFIX}/${factory}/${deviceId}/events`;
}
