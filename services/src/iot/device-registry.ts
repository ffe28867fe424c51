import { createPublicKey, type KeyObject } from 'node:crypto';
import { DeviceStatuses } from '@c2m/shared';
import type { LedgerAccess, LedgerDeviceHistoryEntry } from '../ledger/ledger-access.js';

export interface RegisteredDevice {
  readonly deviceId: string;
  readonly factoryMspId: string;
  readonly publicKey: KeyObject;
  /** The same key as PEM, when at hand: verification threads get it without re-encoding the KeyObject. */
  readonly publicKeyPem?: string;
  /** The device's ledger states, oldest first, each with the time it took effect and the key then in force. */
  readonly states: readonly {
    readonly from: number;
    readonly status: string;
    readonly validUntil?: number;
    readonly publicKeyPem?: string;
  }[];
}

const keyViews = new WeakMap<RegisteredDevice, Map<string, RegisteredDevice>>();

/**
 * The device as it was at time t: with the key in force then. After a key
 * rotation, events signed before it verify with the old key and events signed
 * after it with the new one, never the other way round. Views are cached per
 * key so per-key caches (the verify threads' KeyObjects) keep working.
 */
export function keyAt(device: RegisteredDevice, t: number): RegisteredDevice {
  let pem: string | undefined;
  for (const s of device.states) {
    if (s.from <= t) pem = s.publicKeyPem ?? pem;
    else break;
  }
  if (!pem || pem === device.publicKeyPem) return device;
  let views = keyViews.get(device);
  if (!views) {
    views = new Map();
    keyViews.set(device, views);
  }
  let view = views.get(pem);
  if (!view) {
    view = { ...device, publicKey: createPublicKey(pem), publicKeyPem: pem };
    views.set(pem, view);
  }
  return view;
}

/**
 * Was the device certified at time t? The ledger history is a sequence of
 * states; the one in force at t is the last that took effect at or before t.
 * It must be CERTIFIED and t before its validity end. The same rule runs in the
 * chaincode's WasCertifiedAt and in the proof verifier.
 */
export function certifiedAt(states: RegisteredDevice['states'], t: number): boolean {
  let current: RegisteredDevice['states'][number] | undefined;
  for (const s of states) {
    if (s.from <= t) current = s;
    else break;
  }
  return (
    current !== undefined &&
    current.status === DeviceStatuses.certified &&
    (current.validUntil === undefined || t < current.validUntil)
  );
}

export function statesFromHistory(history: readonly LedgerDeviceHistoryEntry[]): RegisteredDevice['states'] {
  return history
    .filter((h) => !h.isDelete && h.record)
    .map((h) => ({
      from: Date.parse(h.timestamp),
      status: h.record?.status as string,
      validUntil: h.record?.validUntil ? Date.parse(h.record.validUntil) : undefined,
      publicKeyPem: h.record?.publicKeyPem,
    }))
    .sort((a, b) => a.from - b.from);
}

/**
 * Cache of device keys and certification histories read from the ledger, so
 * verifying a message costs one signature check, not a ledger query. Entries
 * are dropped when the ledger reports a change to the device.
 */
export function createDeviceRegistry(ledger: LedgerAccess, asUser: string) {
  const cache = new Map<string, Promise<RegisteredDevice | undefined>>();

  async function load(deviceId: string): Promise<RegisteredDevice | undefined> {
    try {
      const record = await ledger.readDevice(asUser, deviceId);
      const history = await ledger.deviceHistory(asUser, deviceId);
      return {
        deviceId,
        factoryMspId: record.factoryMspId,
        publicKey: createPublicKey(record.publicKeyPem),
        publicKeyPem: record.publicKeyPem,
        states: statesFromHistory(history),
      };
    } catch (err) {
      if ((err as { code?: string }).code === 'DEVICE_NOT_FOUND') return undefined;
      throw err;
    }
  }

  return {
    get(deviceId: string): Promise<RegisteredDevice | undefined> {
      let entry = cache.get(deviceId);
      if (!entry) {
        entry = load(deviceId);
        cache.set(deviceId, entry);
        // Do not cache failures or unknown devices: a device may be registered a moment later.
        entry.then(
          (d) => {
            if (!d) cache.delete(deviceId);
          },
          () => cache.delete(deviceId),
        );
      }
      return entry;
    },
    invalidate(deviceId: string): void {
      cache.delete(deviceId);
    },
    clear(): void {
      cache.clear();
    },
  };
}

export type DeviceRegistry = ReturnType<typeof createDeviceRegistry>;

/**
 * A registry over a fixed set of devices, for benchmarks and tests that drive
 * the ingest without a ledger round per device. Same interface and rules as
 * the ledger-backed one; `set` replaces a device as a ledger change would.
 */
export function createStaticRegistry(
  devices: Iterable<RegisteredDevice> = [],
): DeviceRegistry & { set(device: RegisteredDevice): void } {
  const byId = new Map<string, RegisteredDevice>();
  for (const d of devices) byId.set(d.deviceId, d);
  return {
    async get(deviceId: string): Promise<RegisteredDevice | undefined> {
      return byId.get(deviceId);
    },
    invalidate(_deviceId: string): void {},
    clear(): void {},
    set(device: RegisteredDevice): void {
      byId.set(device.deviceId, device);
    },
  };
}
