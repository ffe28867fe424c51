/**
 * The signed form of one stored EPCIS event: what its signer signed and what its Merkle leaf hashes
 * (leaf = SHA-256(0x00 ‖ message), as for device messages). One format for captured events and for events the
 * platform derives from device messages, so the offline verifier reads both the same way:
 *
 *   message = canonicalJson({
 *     tag: 'c2m.epcis.event.v1',
 *     eventID,           // the event's eventID (the client's, or the event hash where it sent none)
 *     eventIdFrom,       // 'client' | 'hash': who chose it; 'hash' means eventID must equal eventHash
 *     eventHash,         // CBV 2.0 event hash of `event` (ni:///sha-256;…?ver=CBV2.0)
 *     event,             // the event exactly as stored (eventID, recordTime set; user extensions kept)
 *     context?,          // the capture document's @context when it binds more than the EPCIS context (extension
 *                        // prefixes such as `example:`), as the event hash reads it
 *     ownerMspId,        // the org that says it: the capturing user's org, or the factory of the device messages
 *     signer: { mspId, username },  // whose certificate signed: the capturing user, or the platform's service
 *     recordTime,        // when the repository recorded it
 *     captureId?,        // the capture job it came in (captured events)
 *     sourceLeaves?,     // leaf hashes of the device messages it came from (device-derived events)
 *   })
 *
 * The signature is ECDSA P-256 over SHA-256(message), DER, base64, by the certificate kept with the event.
 * Everything a reader relies on is inside the signed bytes: who captured it, in which job, under which hash.
 */
import { canonicalJson } from '../canonical.js';

export const EPCIS_MESSAGE_TAG = 'c2m.epcis.event.v1';

export interface EpcisSignedMessage {
  readonly tag: typeof EPCIS_MESSAGE_TAG;
  readonly eventID: string;
  readonly eventIdFrom: 'client' | 'hash';
  readonly eventHash: string;
  readonly event: Readonly<Record<string, unknown>>;
  readonly context?: unknown;
  readonly ownerMspId: string;
  readonly signer: { readonly mspId: string; readonly username: string };
  readonly recordTime: string;
  readonly captureId?: string;
  readonly sourceLeaves?: readonly string[];
}

/** The exact bytes to sign and to hash into the leaf. */
export function epcisMessage(m: EpcisSignedMessage): string {
  return canonicalJson(m);
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads a signed EPCIS message, refusing anything that is not exactly one: wrong tag or shape, or bytes that are
 * not the canonical JSON of what they hold (one event has one byte form, so one leaf).
 */
export function parseEpcisMessage(text: string): EpcisSignedMessage {
  const m = JSON.parse(text) as unknown;
  if (!isRecord(m) || m.tag !== EPCIS_MESSAGE_TAG) throw new Error('not a signed EPCIS event message');
  const str = (k: string) => {
    if (typeof m[k] !== 'string' || (m[k] as string).length === 0) throw new Error(`${k} is missing`);
    return m[k] as string;
  };
  str('eventID');
  str('eventHash');
  str('ownerMspId');
  str('recordTime');
  if (m.eventIdFrom !== 'client' && m.eventIdFrom !== 'hash') throw new Error('eventIdFrom is neither client nor hash');
  if (!isRecord(m.event)) throw new Error('event is missing');
  if (m.event.eventID !== m.eventID) throw new Error("the event's eventID differs from the message's");
  const signer = m.signer;
  if (!isRecord(signer) || typeof signer.mspId !== 'string' || typeof signer.username !== 'string') {
    throw new Error('signer is missing');
  }
  if (m.captureId !== undefined && typeof m.captureId !== 'string') throw new Error('captureId is not a string');
  if (
    m.sourceLeaves !== undefined &&
    (!Array.isArray(m.sourceLeaves) || !m.sourceLeaves.every((l) => typeof l === 'string' && HEX64.test(l)))
  ) {
    throw new Error('sourceLeaves are not leaf hashes');
  }
  if (canonicalJson(m) !== text) throw new Error('message is not canonical JSON');
  return m as unknown as EpcisSignedMessage;
}
