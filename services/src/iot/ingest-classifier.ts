import { leafHash } from '../trace/merkle.js';
import {
  type DeviceEnvelope,
  type DeviceMessageBody,
  DeviceMessageError,
  type DeviceMessageRejection,
  DeviceMessageRejections,
  parseDeviceMessage,
  verifyDeviceSignature,
} from './device-message.js';
import { type DeviceRegistry, keyAt, type RegisteredDevice } from './device-registry.js';
import { isStorableText } from './message-rules.js';

/** One message as it came off the broker, with when this process received it. */
export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  /** Milliseconds since the epoch. */
  readonly receivedAt: number;
}

export interface Accepted {
  readonly index: number;
  readonly body: DeviceMessageBody;
  readonly factoryMspId: string;
  readonly workOrderId: string | null;
  readonly message: string;
  readonly sig: string;
  readonly leaf: string;
}

export interface Rejected {
  readonly index: number;
  readonly topic: string;
  readonly deviceId: string | null;
  /** The factory and device segments of the topic, when it had them: where a confirmation goes. */
  readonly topicFactory: string | null;
  readonly topicDevice: string | null;
  /** The message's own seq and sig when it parsed: the device matches a confirmation on both. */
  readonly seq: number | null;
  readonly sig: string | null;
  readonly reason: DeviceMessageRejection;
  readonly detail: string;
  readonly payload: Buffer;
}

/** What checking a batch decided: each message index lands in exactly one list. */
export interface Verdicts {
  readonly accepted: Accepted[];
  readonly rejected: Rejected[];
  /** Messages that could not be checked now (their device's ledger record did not load): try again later. */
  readonly deferred: { readonly index: number; readonly error: Error }[];
}

export interface ClassifierDeps {
  readonly registry: DeviceRegistry;
  readonly topicRoot: string;
  readonly maxMessageBytes: number;
  /** Factories owning these work orders; ids not in the map do not exist. Throws only on infrastructure failure. */
  readonly workOrderOwners: (ids: readonly string[]) => Promise<ReadonlyMap<string, string>>;
  /** Verifies envelopes against keys, in order; may use worker threads. Throws only on infrastructure failure. */
  readonly verify: (items: readonly { envelope: DeviceEnvelope; device: RegisteredDevice }[]) => Promise<boolean[]>;
  /** How far an event's claimed time may lie before its receipt, ms. */
  readonly maxPastSkewMs: number;
  /** How far an event's claimed time may lie after its receipt, ms. */
  readonly maxFutureSkewMs: number;
}

/** Index of the device state in force at t (the last that took effect at or before t), or -1. */
function stateIndexAt(states: RegisteredDevice['states'], t: number): number {
  let at = -1;
  for (let i = 0; i < states.length; i++) {
    if ((states[i] as RegisteredDevice['states'][number]).from <= t) at = i;
    else break;
  }
  return at;
}

/** Text safe for a PostgreSQL text column, for details and topics built from hostile input. */
export function storable(s: string, max = 2000): string {
  const cut = s.slice(0, max);
  return isStorableText(cut) ? cut : cut.toWellFormed().replaceAll('\u0000', '\uFFFD');
}

/**
 * Turns a batch of received messages into verdicts. Every failure that
 * belongs to one message becomes that message's verdict (a rejection with a
 * reason, or a deferral when its device's record could not be read); only a
 * failure of the infrastructure every message needs (the work-order lookup,
 * the verification threads) rejects the whole call, and the caller retries
 * the batch.
 *
 * The rules, in order: the strict input rules (`parseDeviceMessage`), the
 * topic names the device and its ledger owner, the work order (if named) is
 * the device's factory's, the claimed time lies within the skew bounds of its
 * receipt, the signature verifies with the key in force, and the device's
 * state at the claimed time is certified and is still the state in force at
 * receipt: after a suspension, revocation, reactivation or key rotation,
 * nothing claimed before it is accepted, whatever time it claims.
 */
export function createClassifier(deps: ClassifierDeps) {
  return async function classify(items: readonly Received[]): Promise<Verdicts> {
    const accepted: Accepted[] = [];
    const rejected: Rejected[] = [];
    const deferred: Verdicts['deferred'] = [];
    const reject = (
      index: number,
      reason: DeviceMessageRejection,
      detail: string,
      parsed?: { deviceId?: string; seq?: number; sig?: string },
    ) => {
      const item = items[index] as Received;
      const parts = topicParts(item.topic);
      rejected.push({
        index,
        topic: storable(item.topic, 512),
        // Before the body parses, the topic's device (unverified) is the best lead for whoever investigates.
        deviceId: parsed?.deviceId ?? parts?.device.slice(0, 128) ?? null,
        topicFactory: parts?.factory ?? null,
        topicDevice: parts?.device ?? null,
        seq: parsed?.seq ?? null,
        sig: parsed?.sig ?? null,
        reason,
        detail: storable(detail),
        payload: item.payload,
      });
    };

    const topicParts = (topic: string) => {
      if (!topic.startsWith(`${deps.topicRoot}/`)) return undefined;
      const parts = topic.slice(deps.topicRoot.length + 1).split('/');
      return parts.length === 3 ? { factory: parts[0] as string, device: parts[1] as string } : undefined;
    };

    interface Parsed {
      index: number;
      envelope: DeviceEnvelope;
      body: DeviceMessageBody;
      factory: string;
      time: number;
    }
    const parsed: Parsed[] = [];
    items.forEach((item, index) => {
      let ids: { deviceId?: string; seq?: number; sig?: string } | undefined;
      try {
        const { envelope, body } = parseDeviceMessage(item.payload, deps.maxMessageBytes);
        ids = { deviceId: body.deviceId, seq: body.seq, sig: envelope.sig };
        const parts = topicParts(item.topic);
        if (!parts || parts.device !== body.deviceId) {
          throw new DeviceMessageError(
            DeviceMessageRejections.TOPIC_MISMATCH,
            `topic ${item.topic} is not ${body.deviceId}'s`,
          );
        }
        const time = Date.parse(body.time);
        if (time < item.receivedAt - deps.maxPastSkewMs || time > item.receivedAt + deps.maxFutureSkewMs) {
          throw new DeviceMessageError(
            DeviceMessageRejections.CLOCK_SKEW,
            `time ${body.time} is outside [-${deps.maxPastSkewMs} ms, +${deps.maxFutureSkewMs} ms] of its receipt at ${new Date(item.receivedAt).toISOString()}`,
          );
        }
        parsed.push({ index, envelope, body, factory: parts.factory, time });
      } catch (err) {
        if (err instanceof DeviceMessageError) reject(index, err.reason, err.message, ids);
        else reject(index, DeviceMessageRejections.CHECK_FAILED, `checking failed: ${(err as Error).message}`, ids);
      }
    });

    // Ledger records of the devices, one read each; a device whose read fails is deferred, not the batch.
    const deviceIds = [...new Set(parsed.map((p) => p.body.deviceId))];
    const loaded = await Promise.allSettled(deviceIds.map((id) => deps.registry.get(id)));
    const devices = new Map<string, PromiseSettledResult<RegisteredDevice | undefined>>(
      deviceIds.map((id, i) => [id, loaded[i] as PromiseSettledResult<RegisteredDevice | undefined>]),
    );
    const workOrderIds = [
      ...new Set(parsed.flatMap((p) => (typeof p.body.data.workOrderId === 'string' ? [p.body.data.workOrderId] : []))),
    ];
    const owners = workOrderIds.length > 0 ? await deps.workOrderOwners(workOrderIds) : new Map<string, string>();

    const toVerify: (Parsed & { device: RegisteredDevice; workOrderId: string | null })[] = [];
    for (const p of parsed) {
      const ids = { deviceId: p.body.deviceId, seq: p.body.seq, sig: p.envelope.sig };
      const entry = devices.get(p.body.deviceId);
      if (!entry || entry.status === 'rejected') {
        deferred.push({ index: p.index, error: entry?.status === 'rejected' ? entry.reason : new Error('no entry') });
        continue;
      }
      const device = entry.value;
      if (!device) {
        reject(p.index, DeviceMessageRejections.UNKNOWN_DEVICE, `${p.body.deviceId} is not registered`, ids);
        continue;
      }
      if (p.factory !== device.factoryMspId) {
        reject(
          p.index,
          DeviceMessageRejections.TOPIC_MISMATCH,
          `${p.body.deviceId} belongs to ${device.factoryMspId}, not ${p.factory}`,
          ids,
        );
        continue;
      }
      const workOrderId = typeof p.body.data.workOrderId === 'string' ? p.body.data.workOrderId : null;
      if (workOrderId !== null && owners.get(workOrderId) !== device.factoryMspId) {
        reject(
          p.index,
          DeviceMessageRejections.WORK_ORDER_MISMATCH,
          `work order ${workOrderId} is not one of ${device.factoryMspId}'s`,
          ids,
        );
        continue;
      }
      try {
        toVerify.push({ ...p, device: keyAt(device, p.time), workOrderId });
      } catch (err) {
        reject(p.index, DeviceMessageRejections.CHECK_FAILED, `device key unusable: ${(err as Error).message}`, ids);
      }
    }

    const valid = await deps.verify(toVerify);
    toVerify.forEach((v, i) => {
      const { body, device } = v;
      const ids = { deviceId: body.deviceId, seq: body.seq, sig: v.envelope.sig };
      const receivedAt = (items[v.index] as Received).receivedAt;
      const states = device.states;
      const atEvent = stateIndexAt(states, v.time);
      const atReceipt = stateIndexAt(states, Math.max(receivedAt, v.time));
      const current = states[atReceipt];
      if (!valid[i]) {
        const rotated = atReceipt !== atEvent && states.slice(atEvent + 1, atReceipt + 1).some((s) => s.publicKeyPem);
        reject(
          v.index,
          rotated ? DeviceMessageRejections.KEY_ROTATED : DeviceMessageRejections.BAD_SIGNATURE,
          rotated
            ? `${body.deviceId}'s key was rotated after ${body.time}: its messages must be signed with the new key`
            : `signature does not verify for ${body.deviceId}`,
          ids,
        );
        return;
      }
      if (current?.status === 'REVOKED') {
        reject(v.index, DeviceMessageRejections.DEVICE_REVOKED, `${body.deviceId} is revoked`, ids);
        return;
      }
      const stateAtEvent = states[atEvent];
      const certified =
        stateAtEvent !== undefined &&
        stateAtEvent.status === 'CERTIFIED' &&
        (stateAtEvent.validUntil === undefined || v.time < stateAtEvent.validUntil);
      if (!certified) {
        reject(
          v.index,
          DeviceMessageRejections.DEVICE_NOT_CERTIFIED,
          `${body.deviceId} was not certified at ${body.time}`,
          ids,
        );
        return;
      }
      if (atEvent !== atReceipt) {
        // Certified when it claims, but its state changed since (suspended, re-certified, re-keyed): a backdated
        // message from a device whose certification was withdrawn must not get in, so none does.
        reject(
          v.index,
          current?.publicKeyPem && current.publicKeyPem !== stateAtEvent.publicKeyPem
            ? DeviceMessageRejections.KEY_ROTATED
            : DeviceMessageRejections.DEVICE_NOT_CERTIFIED,
          `${body.deviceId}'s ledger state changed to ${current?.status ?? 'unknown'} after ${body.time}, before its receipt`,
          ids,
        );
        return;
      }
      accepted.push({
        index: v.index,
        body,
        factoryMspId: device.factoryMspId,
        workOrderId: v.workOrderId,
        message: v.envelope.body,
        sig: v.envelope.sig,
        leaf: leafHash(v.envelope.body),
      });
    });
    accepted.sort((a, b) => a.index - b.index);
    return { accepted, rejected, deferred };
  };
}

export type Classify = ReturnType<typeof createClassifier>;

/** Verification on the calling thread: for tests and small batches. */
export async function verifyInline(
  items: readonly { envelope: DeviceEnvelope; device: RegisteredDevice }[],
): Promise<boolean[]> {
  return items.map((i) => verifyDeviceSignature(i.envelope, i.device.publicKey));
}
