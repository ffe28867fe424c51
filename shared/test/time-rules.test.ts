import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_TIME_RULES, timeProblem } from '../src/index.js';

const at = (iso: string) => Date.parse(iso);
const states = [
  { from: '2026-12-01T00:00:00.000Z', status: 'REGISTERED' },
  { from: '2026-12-01T01:00:00.000Z', status: 'CERTIFIED', validUntil: '2027-12-01T00:00:00.000Z' },
  { from: '2026-12-05T12:00:00.000Z', status: 'SUSPENDED' },
];

test('an event anchored soon after it happened, before any state change, passes', () => {
  assert.equal(
    timeProblem(states, at('2026-12-03T10:00:00Z'), at('2026-12-03T10:00:20Z'), DEFAULT_TIME_RULES),
    undefined,
  );
});

test('an event received before a suspension and anchored just after it passes; one anchored long after is backdated', () => {
  const t = at('2026-12-05T11:59:50Z');
  assert.equal(timeProblem(states, t, at('2026-12-05T12:00:05Z'), DEFAULT_TIME_RULES), undefined);
  assert.match(
    timeProblem(states, t, at('2026-12-05T14:00:00Z'), DEFAULT_TIME_RULES) ?? '',
    /became SUSPENDED at 2026-12-05T12:00:00.000Z/,
  );
});

test('times after the anchor, or long before it, are refused', () => {
  const anchored = at('2026-12-03T10:00:00Z');
  assert.match(timeProblem(states, anchored + 10 * 60_000, anchored, DEFAULT_TIME_RULES) ?? '', /after its anchor/);
  assert.match(timeProblem(states, at('2026-12-01T02:00:00Z'), anchored, DEFAULT_TIME_RULES) ?? '', /long before/);
});

test('property: an event anchored within the allowed delay of its time, with no state change between, always passes', () => {
  const start = at('2026-12-01T01:00:00Z');
  const end = at('2026-12-05T12:00:00Z');
  fc.assert(
    fc.property(
      fc.integer({ min: start, max: end - 1 }),
      fc.integer({ min: 0, max: DEFAULT_TIME_RULES.maxAnchorDelayMs }),
      (t, delay) => {
        const anchored = Math.min(t + delay, end + DEFAULT_TIME_RULES.maxAnchorDelayMs);
        return timeProblem(states, t, anchored, DEFAULT_TIME_RULES) === undefined;
      },
    ),
  );
});
