import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createDeviceCsr, generateDeviceKeyPair } from '@c2m/identity';
import { type DeviceEventType, DeviceEventTypes } from '@c2m/shared';
import mqtt, { type MqttClient } from 'mqtt';
import { createDeviceOutbox, type DeviceOutbox } from './confirmations.js';
import { type DeviceEnvelope, signDeviceMessage } from './device-message.js';

/**
 * A simulated device: its own P-256 key (kept in a state file, as a real
 * device keeps it in its secure element), its factory, and its sequence
 * counter, which survives restarts so a restarted device does not replay.
 */
export interface SimulatedDevice {
  readonly deviceId: string;
  readonly factoryMspId: string;
  readonly privateKey: KeyObject;
  seq: number;
}

interface DeviceState {
  deviceId: string;
  factoryMspId: string;
  privateKeyPem: string;
  seq: number;
}

/** Loads a device from its state file, or creates one with a fresh key and returns its CSR too. */
export async function loadOrCreateDevice(
  stateDir: string,
  deviceId: string,
  factoryMspId: string,
): Promise<{ device: SimulatedDevice; csrPem?: string }> {
  const file = path.join(stateDir, `${deviceId}.json`);
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as DeviceState;
    return {
      device: {
        deviceId,
        factoryMspId: state.factoryMspId,
        privateKey: createPrivateKey(state.privateKeyPem),
        seq: state.seq,
      },
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const keys = generateDeviceKeyPair();
  const csrPem = await createDeviceCsr(keys.privateKey, keys.publicKey, { deviceId, mspId: factoryMspId });
  const device: SimulatedDevice = { deviceId, factoryMspId, privateKey: keys.privateKey, seq: 0 };
  await saveDevice(stateDir, device);
  return { device, csrPem };
}

export async function saveDevice(stateDir: string, device: SimulatedDevice): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, `${device.deviceId}.json`);
  const state: DeviceState = {
    deviceId: device.deviceId,
    factoryMspId: device.factoryMspId,
    privateKeyPem: device.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    seq: device.seq,
  };
  await writeFile(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** Builds the device's next signed message. */
export function nextMessage(
  device: SimulatedDevice,
  type: DeviceEventType,
  data: Record<string, unknown>,
  time = new Date(),
): DeviceEnvelope {
  device.seq += 1;
  return signDeviceMessage(
    { v: 1, deviceId: device.deviceId, seq: device.seq, time: time.toISOString(), type, data },
    device.privateKey,
  );
}

/** What a production device reports, in turn: counts, the occasional quality measurement and sensor reading. */
export function productionData(device: SimulatedDevice, workOrderId: string | undefined, i: number) {
  // A device not assigned to a work order reports without one; the ingest refuses another factory's.
  const wo = workOrderId ? { workOrderId } : {};
  if (i % 10 === 9) {
    return {
      type: DeviceEventTypes.qualityMeasurement,
      data: {
        ...wo,
        characteristic: 'length_mm',
        value: 250 + ((i * 7) % 5) - 2,
        lowerLimit: 245,
        upperLimit: 255,
        pass: true,
      },
    };
  }
  if (i % 10 === 4) {
    return {
      type: DeviceEventTypes.sensorReading,
      data: { ...wo, sensor: 'temperature_c', value: 24 + (i % 3) },
    };
  }
  return { type: DeviceEventTypes.productionCount, data: { ...wo, units: 10 + (i % 5), line: device.deviceId } };
}

export interface SimulatorOptions {
  readonly mqttUrl: string;
  readonly topicRoot: string;
  readonly devices: readonly SimulatedDevice[];
  /** Total messages per second across all devices. */
  readonly ratePerSecond: number;
  readonly count: number;
  /** The work order the devices produce for (one of their factory's); none: events without one. */
  readonly workOrderId?: string;
  /** Called after each published message with (sent, total, counts so far). */
  readonly onProgress?: (sent: number, total: number, counts: MisbehaviourCounts) => void;
  /** Share of messages signed with a key that is not the device's (the ingest rejects them: BAD_SIGNATURE). */
  readonly badSignatureRate?: number;
  /** Share of messages that reuse an earlier sequence number with other content (REPLAY). */
  readonly replayRate?: number;
  /** Random source for the misbehaviour draws (tests pass a seeded one). */
  readonly random?: () => number;
  /** Unacknowledged publishes allowed at once (default 200; without confirmations only). */
  readonly window?: number;
  /**
   * Keep each message until the platform confirms it durable and resend it otherwise (default true), as a real
   * device does (confirmations.ts); false publishes QoS 1 and trusts the broker's PUBACK.
   */
  readonly confirm?: boolean;
  /** With confirmations: how long to wait at the end for the last ones, ms (default 60 s). */
  readonly settleMs?: number;
}

export interface MisbehaviourCounts {
  readonly badSignatures: number;
  readonly replays: number;
}

/** A replay: a sequence number the device already used for a good message, with other content, properly signed. */
function replayMessage(
  device: SimulatedDevice,
  goodSeqs: readonly number[],
  workOrderId: string | undefined,
  random: () => number,
): DeviceEnvelope {
  const seq = goodSeqs[Math.floor(random() * goodSeqs.length)] as number;
  return signDeviceMessage(
    {
      v: 1,
      deviceId: device.deviceId,
      seq,
      time: new Date().toISOString(),
      type: DeviceEventTypes.productionCount,
      data: { ...(workOrderId ? { workOrderId } : {}), units: 1000, line: device.deviceId },
    },
    device.privateKey,
  );
}

export function topicFor(topicRoot: string, device: SimulatedDevice): string {
  return `${topicRoot}/${device.factoryMspId}/${device.deviceId}/events`;
}

/**
 * Devices wait 2 s before reconnecting, longer than the ingest (250 ms): after
 * a broker restart the ingest must be subscribed again before devices publish,
 * because Mosquitto 2.0.11 does not restore shared subscriptions from its
 * persistence file and drops messages that no subscriber takes.
 */
export async function connectDevicePublisher(mqttUrl: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(mqttUrl, { clientId, protocolVersion: 5, clean: true, reconnectPeriod: 2000 });
}

/**
 * Publishes `count` messages round-robin over the devices at the given rate,
 * QoS 1 (at most `window` awaiting their PUBACK). With a bad-signature or
 * replay rate, that share of messages misbehaves; the rest are good.
 */
export async function runSimulator(
  options: SimulatorOptions,
): Promise<
  { sent: number; seconds: number; unconfirmed: number; outbox?: DeviceOutbox['figures'] } & MisbehaviourCounts
> {
  const client = await connectDevicePublisher(options.mqttUrl, `c2m-sim-${process.pid}-${Date.now()}`);
  const outbox = options.confirm === false ? undefined : createDeviceOutbox(client);
  let unconfirmed = 0;
  const started = Date.now();
  const interval = 1000 / Math.max(options.ratePerSecond, 0.001);
  const random = options.random ?? Math.random;
  const window = options.window ?? 200;
  const forger = options.badSignatureRate ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : undefined;
  const counts = { badSignatures: 0, replays: 0 };
  // A replay reuses the seq of a good message; a number only a forged message used was never accepted, so a
  // properly signed message with it is new (the ingest's anti-replay window accepts it).
  const good = new Map<string, number[]>();
  const inflight: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < options.count; i++) {
      const device = options.devices[i % options.devices.length] as SimulatedDevice;
      const draw = random();
      let envelope: DeviceEnvelope;
      if (forger && draw < (options.badSignatureRate ?? 0)) {
        const { type, data } = productionData(device, options.workOrderId, i);
        envelope = nextMessage({ ...device, privateKey: forger }, type, data);
        device.seq += 1;
        counts.badSignatures++;
      } else if (
        (good.get(device.deviceId)?.length ?? 0) > 0 &&
        draw < (options.badSignatureRate ?? 0) + (options.replayRate ?? 0)
      ) {
        envelope = replayMessage(device, good.get(device.deviceId) as number[], options.workOrderId, random);
        counts.replays++;
      } else {
        const { type, data } = productionData(device, options.workOrderId, i);
        envelope = nextMessage(device, type, data);
        const seqs = good.get(device.deviceId) ?? [];
        seqs.push(device.seq);
        good.set(device.deviceId, seqs);
      }
      const topic = topicFor(options.topicRoot, device);
      if (outbox) {
        const seq = (JSON.parse(envelope.body) as { seq: number }).seq;
        await outbox.send(topic, device.deviceId, seq, JSON.stringify(envelope), envelope.sig);
      } else {
        inflight.push(client.publishAsync(topic, JSON.stringify(envelope), { qos: 1 }));
        if (inflight.length >= window) await Promise.all(inflight.splice(0));
      }
      options.onProgress?.(i + 1, options.count, counts);
      const due = started + (i + 1) * interval;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(inflight);
    if (outbox) unconfirmed = await outbox.settle(options.settleMs ?? 60_000);
  } finally {
    outbox?.close();
    await client.endAsync();
  }
  return {
    sent: options.count,
    seconds: (Date.now() - started) / 1000,
    unconfirmed,
    ...(outbox ? { outbox: outbox.figures } : {}),
    ...counts,
  };
}
