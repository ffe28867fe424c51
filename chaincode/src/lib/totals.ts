import type { BatchTotals } from '../contracts/anchors-contract.js';
import { invalid } from './errors.js';
import { id, jsonObject } from './validate.js';

/** Work orders one batch may report on; a batch is a factory's next N events, so a few work orders at most. */
const MAX_WORK_ORDERS = 256;
const FIELDS = ['events', 'units', 'qcPass', 'qcFail'] as const;

/**
 * A batch's per-work-order totals: `{ [workOrderId]: { events, units, qcPass, qcFail } }`, non-negative safe
 * integers, events adding up to no more than the batch's event count (events without a work order are not
 * listed), QC results no more than the events. Returned with keys in a fixed order so every endorser writes
 * the same bytes.
 */
export function batchTotals(name: string, value: string, eventCount: number): Record<string, BatchTotals> {
  const parsed = jsonObject(name, value, 64 * 1024);
  const entries = Object.entries(parsed);
  if (entries.length > MAX_WORK_ORDERS) return invalid(`${name} lists more than ${MAX_WORK_ORDERS} work orders`);
  const out: Record<string, BatchTotals> = {};
  let events = 0;
  for (const [workOrderId, t] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    id(`${name} work order`, workOrderId);
    if (t === null || typeof t !== 'object' || Array.isArray(t) || Object.keys(t).length !== FIELDS.length) {
      return invalid(`${name}.${workOrderId} must be { events, units, qcPass, qcFail }`);
    }
    const n = t as Record<string, unknown>;
    for (const f of FIELDS) {
      if (typeof n[f] !== 'number' || !Number.isSafeInteger(n[f]) || (n[f] as number) < 0) {
        return invalid(`${name}.${workOrderId}.${f} must be a non-negative integer`);
      }
    }
    const total = { events: n.events, units: n.units, qcPass: n.qcPass, qcFail: n.qcFail } as BatchTotals;
    if (total.events < 1 || total.qcPass + total.qcFail > total.events) {
      return invalid(`${name}.${workOrderId}: counts do not add up`);
    }
    events += total.events;
    out[workOrderId] = total;
  }
  if (events > eventCount) return invalid(`${name} counts ${events} events in a batch of ${eventCount}`);
  return out;
}
