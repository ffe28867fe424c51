/**
 * Runs the demo once against the configured ledger (LEDGER=fabric for `npm run fabric:check`) and checks
 * that it committed every transaction it made: each block the demo added holds only VALID transactions, and
 * every transaction id the platform recorded (devices, work orders, anchors, the ledger outbox) is VALID on the
 * ledger. Prints one JSON line; exits 1 on any failure.
 *
 *   LEDGER=fabric FABRIC_CONNECTION=... DATABASE_URL=... node services/dist/src/demo/ledger-check.js
 */
import type { Ledger } from '@c2m/shared';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openPlatform } from '../platform.js';
import { loadDemo } from './demo-data.js';

/** Transaction ids the platform keeps, by where they come from. */
const RECORDED_TX_IDS = [
  ['devices', 'SELECT registered_tx AS tx FROM devices WHERE registered_tx IS NOT NULL'],
  ['work orders', 'SELECT ledger_tx_id AS tx FROM work_orders WHERE ledger_tx_id IS NOT NULL'],
  ['anchors', 'SELECT tx_id AS tx FROM batches WHERE tx_id IS NOT NULL'],
  ['ledger outbox', 'SELECT tx_id AS tx FROM ledger_outbox WHERE tx_id IS NOT NULL'],
] as const;

export interface LedgerCheckSummary {
  readonly ok: boolean;
  readonly ledger: string;
  readonly blocks: { readonly from: number; readonly to: number };
  /** Transactions in the demo's blocks, by validation code. */
  readonly codes: Record<string, number>;
  /** Recorded transaction ids looked up, and those not VALID (or not found). */
  readonly recorded: { readonly checked: number; readonly bad: readonly string[] };
  readonly workOrderId?: string;
  readonly seconds: number;
  readonly error?: string;
}

async function blockCodes(ledger: Ledger, from: number, to: number): Promise<Record<string, number>> {
  const codes: Record<string, number> = {};
  for (let n = from; n < to; n++) {
    for (const tx of (await ledger.block(n)).transactions)
      codes[tx.validationCode] = (codes[tx.validationCode] ?? 0) + 1;
  }
  return codes;
}

export async function checkDemoOnLedger(eventCount: number): Promise<LedgerCheckSummary> {
  const started = Date.now();
  // The demo signs in as the demo users, which exist only in demo mode.
  const config = loadConfig({ port: 0, demo: true });
  let from = 0;
  let to = 0;
  let platform: Awaited<ReturnType<typeof openPlatform>> | undefined;
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  try {
    platform = await openPlatform(config);
    app = await buildApp(platform);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const ledger = platform.ledger;
    from = await ledger.height();
    const demo = await loadDemo({ baseUrl: address, platform, live: false, eventCount });
    demo.stop();
    to = await ledger.height();
    const codes = await blockCodes(ledger, from, to);
    const bad: string[] = [];
    let checked = 0;
    for (const [what, sql] of RECORDED_TX_IDS) {
      for (const { tx } of (await platform.pool.query<{ tx: string }>(sql)).rows) {
        checked++;
        const info = await ledger.transaction(tx);
        if (info?.validationCode !== 'VALID') bad.push(`${what} ${tx}: ${info?.validationCode ?? 'not found'}`);
      }
    }
    const invalid = Object.entries(codes).filter(([code]) => code !== 'VALID');
    return {
      ok: invalid.length === 0 && bad.length === 0 && checked > 0 && to > from,
      ledger: ledger.kind,
      blocks: { from, to },
      codes,
      recorded: { checked, bad },
      workOrderId: demo.workOrderId,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } catch (err) {
    return {
      ok: false,
      ledger: config.ledger,
      blocks: { from, to },
      codes: {},
      recorded: { checked: 0, bad: [] },
      seconds: Math.round((Date.now() - started) / 100) / 10,
      error: (err as Error).stack ?? String(err),
    };
  } finally {
    await app?.close();
    await platform?.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // fabric-shim installs an uncaughtException handler that only logs: without this, a failure outside the
  // check would end the process with status 0 and no summary, and fabric:check would pass on nothing.
  process.exitCode = 1;
  const summary = await checkDemoOnLedger(Number(process.env.DEMO_EVENT_COUNT ?? 120));
  // On a line of its own, so the summary is found whatever the logs printed before it.
  console.log(`\n${JSON.stringify(summary)}`);
  process.exit(summary.ok ? 0 : 1);
}
