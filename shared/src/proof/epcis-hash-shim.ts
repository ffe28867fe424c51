/**
 * TEMPORARY SHIM (epcis-capture branch): stands in for the gs1 helper's shared/src/epcis/event-hash.ts
 * (`epcisEventHash(event, context?)`, the CBV 2.0 event hash) until that branch is merged; then this file is
 * deleted and its importers switch to the real one. NOT the CBV 2.0 algorithm: SHA-256 of the canonical JSON of
 * the event without the fields the algorithm leaves out, in the same `ni:` form.
 */
import { canonicalJson } from '../canonical.js';
import { toHex, utf8 } from './bytes.js';
import { sha256Sync } from './sha256.js';

const LEFT_OUT = new Set(['eventID', 'recordTime', 'errorDeclaration', '@context']);

export function epcisEventHash(event: Readonly<Record<string, unknown>>, _context?: unknown): string {
  const kept = Object.fromEntries(Object.entries(event).filter(([k]) => !LEFT_OUT.has(k)));
  return `ni:///sha-256;${toHex(sha256Sync(utf8(canonicalJson(kept))))}?ver=CBV2.0`;
}
