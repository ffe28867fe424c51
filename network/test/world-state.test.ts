import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WorldState } from '../src/internal/world-state.js';

const value = Buffer.from('v');
const version = (tx: number) => ({ block: 1, tx });
/** Fabric's state database orders keys by their UTF-8 bytes. */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

describe('world state', () => {
  it('answers range queries in UTF-8 byte order, as Fabric does, through any mix of writes and deletes', () => {
    // Keys drawn from a small alphabet with a composite-key separator, a BMP character and an astral one, so
    // that order ties, prefixes and surrogate pairs all occur.
    const key = fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\uffee', '😀'), minLength: 0, maxLength: 5 });
    const op = fc.record({ key, remove: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), key, key, (ops, x, y) => {
        const state = new WorldState();
        const model = new Map<string, number>();
        ops.forEach(({ key: k, remove }, i) => {
          state.put(k, remove ? null : value, version(i), `tx${i}`, i);
          if (remove) model.delete(k);
          else model.set(k, i);
        });
        const [start, end] = byUtf8(x, y) <= 0 ? [x, y] : [y, x];
        const expected = [...model.keys()]
          .filter((k) => byUtf8(k, start) >= 0 && (end === '' || byUtf8(k, end) < 0))
          .sort(byUtf8);
        const got = state.range(start, end);
        assert.deepEqual(
          got.map(([k]) => k),
          expected,
        );
        for (const [k, e] of got) assert.equal(e.version.tx, model.get(k));
        // A page: the first keys of the same range, no more.
        assert.deepEqual(
          state.range(start, end, 2).map(([k]) => k),
          expected.slice(0, 2),
        );
      }),
      { numRuns: 300 },
    );
  });
});
