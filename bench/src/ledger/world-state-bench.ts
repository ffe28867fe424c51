/**
 * The embedded ledger's world state as it fills: microseconds per key insert and per range query at growing
 * sizes, for the B+ tree the engine uses (sorted-btree) against the baseline it replaced, a sorted array kept
 * in order with binary search and splice (kept here, verbatim in behaviour, as the named baseline). Both are
 * the bare sorted maps, without the history and versions the world state keeps around them.
 *
 *   node bench/dist/src/ledger/world-state-bench.js [--sizes 10000,100000,300000,1000000] [--baseline-max 300000]
 *
 * Keys look like the chaincode's composite keys and arrive in a scrambled order, as batch ids do.
 */
import { parseArgs } from 'node:util';
import { compareKeys, SortedMap, type StateEntry } from '@c2m/network/dist/src/internal/world-state.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,300000,1000000' },
    'baseline-max': { type: 'string', default: '300000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const baselineMax = Number(values['baseline-max']);

/** The engine's SortedMap before the B+ tree: a Map plus a sorted key array. */
class SortedArrayBaseline {
  readonly #map = new Map<string, StateEntry>();
  readonly #keys: string[] = [];
  set(key: string, entry: StateEntry): void {
    if (!this.#map.has(key)) {
      let lo = 0;
      let hi = this.#keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareKeys(this.#keys[mid]!, key) < 0) lo = mid + 1;
        else hi = mid;
      }
      this.#keys.splice(lo, 0, key);
    }
    this.#map.set(key, entry);
  }
}

const value = Buffer.from('x'.repeat(300));
const key = (n: number) => `\u0000c2m.anchor\u0000B-${(n * 2654435761) % 4294967296}\u0000`;

interface Row {
  readonly impl: string;
  readonly keys: number;
  readonly insertUs: number;
  readonly rangeUs: number | null;
}

/** Fills to each size in turn and times the last 10,000 inserts before it (and 1,000 range queries of 50 keys). */
function measure(impl: string, put: (k: string, n: number) => void, range?: (start: string) => number): Row[] {
  const rows: Row[] = [];
  let n = 0;
  for (const size of sizes) {
    if (impl !== 'b+tree (engine)' && size > baselineMax) break;
    while (n < size - 10_000) put(key(n), n++);
    const t0 = performance.now();
    while (n < size) put(key(n), n++);
    const insertUs = ((performance.now() - t0) * 1000) / 10_000;
    let rangeUs: number | null = null;
    if (range) {
      const t1 = performance.now();
      let seen = 0;
      for (let i = 0; i < 1000; i++) seen += range(key((i * 7919) % size));
      rangeUs = ((performance.now() - t1) * 1000) / 1000;
      if (seen === 0) throw new Error('range queries found nothing');
    }
    rows.push({ impl, keys: size, insertUs, rangeUs });
    console.error(`${impl}: ${size} keys, ${insertUs.toFixed(1)} us/insert`);
  }
  return rows;
}

const tree = new SortedMap();
const treeRows = measure(
  'b+tree (engine)',
  (k, n) => tree.set(k, { value, version: { block: 1, tx: n } }),
  // A page of 50 keys from `start` and the next page's first key, as a paginated range query reads them.
  (start) => tree.range(start, '', 51).length,
);
const baseline = new SortedArrayBaseline();
const array = measure('sorted array (baseline)', (k, n) => baseline.set(k, { value, version: { block: 1, tx: n } }));

console.log(`\nworld state, keys inserted in scrambled order, node ${process.version}`);
console.log('| implementation | keys | us per insert (last 10,000) | us per range query |');
console.log('|---|---:|---:|---:|');
for (const r of [...treeRows, ...array]) {
  console.log(
    `| ${r.impl} | ${r.keys.toLocaleString('en')} | ${r.insertUs.toFixed(1)} | ${r.rangeUs === null ? '' : r.rangeUs.toFixed(1)} |`,
  );
}
for (const a of array) {
  const t = treeRows.find((r) => r.keys === a.keys);
  if (t)
    console.log(
      `${a.keys.toLocaleString('en')} keys: an insert costs ${(a.insertUs / t.insertUs).toFixed(2)}x as much in the baseline`,
    );
}
