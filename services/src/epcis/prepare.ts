import { createHash } from 'node:crypto';
import { EPCIS_MESSAGE_TAG, type EpcisSignedMessage, epcisMessage, eventHashPreImage } from '@c2m/shared';
import { canonicalUri } from './canonical.js';
import { normaliseEventVocabulary } from './cbv.js';
import { type IndexedEvent, indexEvent } from './store.js';

/**
 * The per-event work of a capture that needs no database: CBV vocabulary, the CBV 2.0 event hash, eventID,
 * the stored event, its indexed columns, the signed message and its leaf hash. Pure, so that large documents
 * run it on worker threads in slices (prepare-pool.ts) while the capture's own thread talks to PostgreSQL;
 * the message is built for every event, and the capture signs and stores those that pass its checks.
 */
type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Who signs, for whom, in which capture: the same for every event of a job. */
export interface PrepareMeta {
  readonly context: unknown;
  readonly recordTime: string;
  readonly ownerMspId: string;
  readonly signer: { readonly mspId: string; readonly username: string };
  readonly captureId: string;
}

export interface PreparedEvent {
  readonly index: number;
  readonly eventID: string;
  readonly eventIdFrom: 'client' | 'hash';
  readonly eventHash: string;
  readonly event: Json;
  readonly indexed: IndexedEvent;
  readonly declaration: boolean;
  readonly message: string;
  readonly leafHash: string;
}

export interface PrepareFailure {
  readonly index: number;
  readonly eventID: string | null;
  readonly message: string;
}

/**
 * The CBV 2.0 event hash (shared epcisEventHash's result), its SHA-256 taken by node:crypto: the shared one
 * hashes in plain TypeScript for the browser verifier, a sixth of this path's cost per event.
 */
export function eventHash256(event: Json, context: unknown): string {
  return `ni:///sha-256;${createHash('sha256').update(eventHashPreImage(event, context)).digest('hex')}?ver=CBV2.0`;
}

export function prepareEvents(
  events: readonly unknown[],
  firstIndex: number,
  meta: PrepareMeta,
): { prepared: PreparedEvent[]; failures: PrepareFailure[] } {
  const prepared: PreparedEvent[] = [];
  const failures: PrepareFailure[] = [];
  events.forEach((raw, i) => {
    const index = firstIndex + i;
    const given = isRecord(raw) && typeof raw.eventID === 'string' ? raw.eventID : null;
    try {
      if (!isRecord(raw)) throw new Error('the event is not an object');
      const normalised = normaliseEventVocabulary(raw);
      const eventHash = eventHash256(normalised, meta.context);
      const eventID = given ?? eventHash;
      const eventIdFrom = given === null ? 'hash' : 'client';
      const event: Json = { ...normalised, eventID, recordTime: meta.recordTime };
      const m: EpcisSignedMessage = {
        tag: EPCIS_MESSAGE_TAG,
        eventID,
        eventIdFrom,
        eventHash,
        event,
        ...(meta.context !== undefined ? { context: meta.context } : {}),
        ownerMspId: meta.ownerMspId,
        signer: meta.signer,
        recordTime: meta.recordTime,
        captureId: meta.captureId,
      };
      const message = epcisMessage(m);
      prepared.push({
        index,
        eventID,
        eventIdFrom,
        eventHash,
        event,
        indexed: indexEvent(event, canonicalUri),
        declaration: isRecord(normalised.errorDeclaration),
        message,
        leafHash: createHash('sha256')
          .update(Buffer.from([0]))
          .update(message)
          .digest('hex'),
      });
    } catch (err) {
      failures.push({ index, eventID: given, message: (err as Error).message });
    }
  });
  return { prepared, failures };
}
