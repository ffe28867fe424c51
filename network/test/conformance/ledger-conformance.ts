/**
 * One suite of `Ledger` behaviour, run against every implementation: the
 * embedded engine always, a real Fabric network when FABRIC_CONNECTION names
 * its settings. It only uses the shared interface and the facades, and names
 * its records uniquely per run, so it also runs on a long-lived network.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type ChaincodeEvent, ErrorCodes, type Ledger, LedgerEvents, type LedgerIdentity, Orgs } from '@c2m/shared';
import {
  anchorsContract,
  CommitError,
  devicesContract,
  EndorseError,
  LedgerError,
  orgsContract,
  termsHash,
  workOrdersContract,
} from '../../src/index.js';

/** The users the suite acts as; their certificates carry the `role` attribute the chaincode checks. */
export interface ConformanceIdentities {
  /** PlatformOrg, role admin. */
  readonly admin: LedgerIdentity;
  /** BrandOrg, role brand-manager. */
  readonly brand: LedgerIdentity;
  /** Factory1Org, role factory-manager. */
  readonly factory1: LedgerIdentity;
  /** Factory2Org, role factory-manager. */
  readonly factory2: LedgerIdentity;
  /** FinanceOrg, role financier. */
  readonly financier: LedgerIdentity;
}

export interface ConformanceEnvironment {
  readonly ledger: Ledger;
  readonly identities: ConformanceIdentities;
  cleanup(): Promise<void>;
}

export interface ConformanceContext {
  /** Which implementation runs, for messages. */
  readonly name: string;
}

export type ConformanceFactory = (ctx: ConformanceContext) => Promise<ConformanceEnvironment>;

export interface ConformanceOptions {
  /** Skip every case with this message (e.g. the variable that enables the run). */
  readonly skip?: string;
  /** Longest wait for an event; a real network cuts blocks on its BatchTimeout. */
  readonly eventTimeoutMs?: number;
}

/** Registers the consortium's orgs in the chaincode's registry; a long-lived network already has them. */
export async function registerConsortium(ledger: Ledger, admin: LedgerIdentity): Promise<void> {
  const reg = orgsContract(ledger, admin);
  const orgs = [
    { mspId: Orgs.brand, kind: 'brand', name: 'Brand Co' },
    { mspId: Orgs.factory1, kind: 'factory', name: 'Factory One' },
    { mspId: Orgs.factory2, kind: 'factory', name: 'Factory Two' },
    { mspId: Orgs.finance, kind: 'finance', name: 'Finance Co' },
  ] as const;
  await Promise.all(
    orgs.map((o) =>
      reg.registerOrg(o).catch((err: unknown) => {
        if (!(err instanceof LedgerError && err.code === ErrorCodes.ALREADY_EXISTS)) throw err;
      }),
    ),
  );
}

function device(deviceId: string) {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    deviceId,
    model: 'KN-9',
    serial: `S-${deviceId}`,
    line: 'line-1',
    certificateFingerprint: createHash('sha256').update(deviceId).digest('hex'),
    publicKeyPem,
  };
}

/** Collects events until `done` says so, or fails after `timeoutMs`. */
async function collectEvents(
  ledger: Ledger,
  checkpoint: Parameters<Ledger['listen']>[0],
  done: (events: readonly ChaincodeEvent[]) => boolean,
  timeoutMs: number,
  whileListening: () => Promise<void>,
): Promise<ChaincodeEvent[]> {
  const events: ChaincodeEvent[] = [];
  let wake: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const listener = await ledger.listen(checkpoint, (e) => {
    events.push(e);
    if (done(events)) wake();
  });
  try {
    await whileListening();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms with ${events.length} events`)),
        timeoutMs,
      );
    });
    try {
      if (!done(events)) await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return events;
  } finally {
    listener.close();
  }
}

export function ledgerConformance(name: string, factory: ConformanceFactory, options: ConformanceOptions = {}): void {
  const eventTimeoutMs = options.eventTimeoutMs ?? 10_000;
  describe(`ledger conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let env: ConformanceEnvironment;
    let ledger: Ledger;
    let ids: ConformanceIdentities;
    const run = randomUUID().slice(0, 8);
    const id = (what: string) => `cf-${run}-${what}`;

    let setupError: Error | undefined;
    before(async () => {
      try {
        env = await factory({ name });
      } catch (err) {
        // Not thrown from the hook: node:test would cancel every case and still report "fail 0".
        setupError = err as Error;
        return;
      }
      ledger = env.ledger;
      ids = env.identities;
    });
    after(async () => env?.cleanup());
    /** A case that fails, with the setup's error, when the ledger could not be opened. */
    const test = (title: string, fn: () => Promise<void>) =>
      it(title, async () => {
        if (setupError) throw new Error(`${name} ledger setup failed: ${setupError.message}`, { cause: setupError });
        await fn();
      });

    test('submits through a facade and reads the record back; the transaction is VALID where the commit said', async () => {
      const input = device(id('dev-1'));
      const committed = await devicesContract(ledger, ids.factory1).registerDevice(input);
      assert.equal(committed.record.deviceId, input.deviceId);
      assert.equal(committed.record.ownerMspId, Orgs.factory1);
      assert.match(committed.txId, /^[0-9a-f]{64}$/);
      const read = await devicesContract(ledger, ids.brand).readDevice(input.deviceId);
      assert.deepEqual(read, committed.record);

      const info = await ledger.transaction(committed.txId);
      assert.ok(info, 'committed transaction is found by id');
      assert.equal(info.validationCode, 'VALID');
      assert.equal(info.blockNumber, committed.blockNumber);
      assert.equal(info.creatorMspId, Orgs.factory1);
      assert.ok(committed.blockNumber < (await ledger.height()));
    });

    test('refuses callers the chaincode does not entitle, with its code and the transaction id', async () => {
      await assert.rejects(devicesContract(ledger, ids.brand).registerDevice(device(id('dev-denied'))), (err) => {
        assert.ok(err instanceof EndorseError, `EndorseError, got ${String(err)}`);
        assert.equal(err.code, ErrorCodes.ACCESS_DENIED);
        assert.match(err.txId, /^[0-9a-f]{64}$/);
        return true;
      });
      await assert.rejects(
        anchorsContract(ledger, ids.factory1).anchorBatch({
          batchId: id('batch-denied'),
          factoryMspId: Orgs.factory1,
          merkleRootHex: 'ab'.repeat(32),
          eventCount: 1,
          firstEventTime: new Date(),
          lastEventTime: new Date(),
        }),
        { code: ErrorCodes.ACCESS_DENIED },
      );
      // Nothing was written by the refused proposals.
      await assert.rejects(devicesContract(ledger, ids.factory1).readDevice(id('dev-denied')), {
        code: ErrorCodes.DEVICE_NOT_FOUND,
      });
    });

    test('keeps work-order terms private: only their hash on the channel, cleartext for the two parties', async () => {
      const terms = { unitPriceMinor: 1234, currency: 'CNY', quantity: 5000, run };
      const workOrderId = id('wo-1');
      const wo = await workOrdersContract(ledger, ids.brand).commitWorkOrder({
        workOrderId,
        orderId: id('order-1'),
        factoryMspId: Orgs.factory1,
        terms,
      });
      assert.equal(wo.record.termsHash, termsHash(terms));
      const asFactory = await workOrdersContract(ledger, ids.factory1).readTerms(workOrderId);
      assert.deepEqual(JSON.parse(asFactory), terms);
      assert.equal(createHash('sha256').update(asFactory).digest('hex'), wo.record.termsHash);
      for (const outsider of [ids.factory2, ids.financier]) {
        await assert.rejects(workOrdersContract(ledger, outsider).readTerms(workOrderId), {
          code: ErrorCodes.ACCESS_DENIED,
        });
      }
      // The public record is readable by others and carries no terms.
      const pub = await workOrdersContract(ledger, ids.financier).readWorkOrder(workOrderId);
      assert.equal(JSON.stringify(pub).includes('unitPriceMinor'), false);
      // Terms that do not match the hash on the channel are refused.
      await assert.rejects(
        ledger.submit(ids.brand, 'WorkOrders:CommitWorkOrder', {
          arguments: [id('wo-bad'), id('order-1'), Orgs.factory1, termsHash({ other: 1 })],
          transientData: { terms: JSON.stringify(terms) },
        }),
        { name: 'EndorseError', code: ErrorCodes.VALIDATION_FAILED },
      );
    });

    test('refuses to choose endorsers for transient data outside its collection, as the Fabric Gateway does', async () => {
      // The chaincode policy needs PlatformOrg, which does not hold brandFactoryTerms: left to choose, the
      // Gateway refuses (FAILED_PRECONDITION) rather than show the terms to a non-member on its own initiative.
      const terms = JSON.stringify({ unitPriceMinor: 1, run });
      await assert.rejects(
        ledger.submit(ids.brand, 'WorkOrders:CommitWorkOrder', {
          arguments: [id('wo-plan'), id('order-plan'), Orgs.factory1, termsHash(terms)],
          transientData: { terms },
        }),
        (err) => {
          assert.ok(err instanceof EndorseError, `EndorseError, got ${String(err)}`);
          assert.equal(err.code, ErrorCodes.ENDORSEMENT_PLAN_REFUSED);
          assert.match(
            err.message,
            /not in the distribution policy of the private data collection\(s\): \[brandFactoryTerms\]/,
          );
          return true;
        },
      );
      await assert.rejects(workOrdersContract(ledger, ids.brand).readWorkOrder(id('wo-plan')), {
        code: ErrorCodes.WORK_ORDER_NOT_FOUND,
      });
      // Without transient data the same policy is planned by the ledger as usual.
      const d = await devicesContract(ledger, ids.factory1).registerDevice(device(id('dev-plan')));
      assert.equal((await ledger.transaction(d.txId))?.validationCode, 'VALID');
    });

    test('reports a lost commit race as Fabric does, and facades retry it into the business answer', async () => {
      const commit = (who: string) => ({
        arguments: [id('wo-race'), id('order-race'), Orgs.factory1, termsHash(who)],
        transientData: { terms: who },
        endorsingOrganizations: [Orgs.platform, Orgs.brand],
      });
      // Two proposals read the same absent key and set its key-level policy; the second to commit must not win.
      const raw = await Promise.allSettled([
        ledger.submit(ids.brand, 'WorkOrders:CommitWorkOrder', commit('a')),
        ledger.submit(ids.brand, 'WorkOrders:CommitWorkOrder', commit('b')),
      ]);
      const won = raw.filter((r) => r.status === 'fulfilled');
      const lost = raw.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, 'exactly one of two conflicting transactions commits');
      const reason = lost[0]!.reason as LedgerError;
      // Endorsed before the winner committed: invalidated at commit. In the winner's block, Fabric's key-level
      // validator refuses a write to a key whose policy that block set (before any MVCC check); in a later
      // block the key's owner policy (brand + factory) is not met by PlatformOrg + BrandOrg. Either way it is
      // ENDORSEMENT_POLICY_FAILURE. Endorsed after: refused by the chaincode.
      if (reason instanceof CommitError) {
        assert.equal(reason.validationCode, 'ENDORSEMENT_POLICY_FAILURE');
        assert.equal(reason.code, ErrorCodes.ENDORSEMENT_POLICY_FAILURE);
        assert.equal((await ledger.transaction(reason.txId))?.validationCode, 'ENDORSEMENT_POLICY_FAILURE');
      } else {
        assert.equal(reason.code, ErrorCodes.WORK_ORDER_EXISTS);
      }

      // Through the facade the loser is retried and then meets the winner's record: a business answer.
      const brand = workOrdersContract(ledger, ids.brand);
      const input = (who: string) => ({
        workOrderId: id('wo-race-2'),
        orderId: id('order-race'),
        factoryMspId: Orgs.factory1,
        terms: who,
      });
      const facade = await Promise.allSettled([brand.commitWorkOrder(input('a')), brand.commitWorkOrder(input('b'))]);
      assert.equal(facade.filter((r) => r.status === 'fulfilled').length, 1);
      const loser = facade.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason as LedgerError;
      assert.equal(loser.code, ErrorCodes.WORK_ORDER_EXISTS);
    });

    test('delivers chaincode events from a checkpoint, and resumes after the last one handled', async () => {
      const start = await ledger.height();
      const first = device(id('dev-ev-1'));
      const events = await collectEvents(
        ledger,
        { blockNumber: start },
        (es) =>
          es.some(
            (e) => e.eventName === LedgerEvents.deviceRegistered && e.payload.length > 0 && seen(e, first.deviceId),
          ),
        eventTimeoutMs,
        async () => {
          await devicesContract(ledger, ids.factory1).registerDevice(first);
        },
      );
      const ev = events.find((e) => seen(e, first.deviceId))!;
      assert.equal(ev.chaincodeName, ledger.chaincode);
      assert.ok(ev.blockNumber >= start);
      assert.equal((await ledger.transaction(ev.txId))?.blockNumber, ev.blockNumber);

      // Resuming from (block, txId) never repeats that transaction's event.
      const second = device(id('dev-ev-2'));
      const resumed = await collectEvents(
        ledger,
        { blockNumber: ev.blockNumber, transactionId: ev.txId },
        (es) => es.some((e) => seen(e, second.deviceId)),
        eventTimeoutMs,
        async () => {
          await devicesContract(ledger, ids.factory1).registerDevice(second);
        },
      );
      assert.equal(
        resumed.some((e) => e.txId === ev.txId),
        false,
        'the checkpointed event is not delivered again',
      );
      for (let i = 1; i < resumed.length; i++) assert.ok(resumed[i]!.blockNumber >= resumed[i - 1]!.blockNumber);
    });

    test('looks up blocks and transactions: hash chain, validation codes, creators, functions', async () => {
      const input = device(id('dev-blk'));
      const committed = await devicesContract(ledger, ids.factory1).registerDevice(input);
      const block = await ledger.block(committed.blockNumber);
      assert.equal(block.number, committed.blockNumber);
      const tx = block.transactions.find((t) => t.txId === committed.txId);
      assert.ok(tx, 'the block holds the transaction');
      assert.equal(tx.validationCode, 'VALID');
      assert.equal(tx.creatorMspId, Orgs.factory1);
      assert.equal(tx.function, 'Devices:RegisterDevice');
      assert.ok(!Number.isNaN(Date.parse(tx.timestamp)));
      const info = await ledger.transaction(committed.txId);
      assert.equal(info?.blockHash, block.hash);
      assert.equal(info?.txIndex, block.transactions.indexOf(tx));

      const previous = await ledger.block(committed.blockNumber - 1);
      assert.equal(block.previousHash, previous.hash, 'blocks are hash-chained');
      assert.match(block.hash, /^[0-9a-f]{64}$/);
      assert.equal(await ledger.transaction('0'.repeat(64)), undefined);
      await assert.rejects(ledger.block((await ledger.height()) + 10), RangeError);
    });

    test('holds a device to its owners’ key-level policy: the chaincode-wide policy alone does not commit a change', async () => {
      const d = device(id('sbe'));
      await devicesContract(ledger, ids.factory1).registerDevice(d);
      const rotated = device(id('sbe-next'));
      // PlatformOrg + Factory2Org satisfies the chaincode policy, but the device belongs to PlatformOrg + Factory1Org.
      const err = await ledger
        .submit(ids.factory1, 'Devices:RotateDeviceKey', {
          arguments: [d.deviceId, rotated.certificateFingerprint, rotated.publicKeyPem, 'new key'],
          endorsingOrganizations: [Orgs.platform, Orgs.factory2],
        })
        .then(
          () => assert.fail('a change endorsed without the owner’s peer committed'),
          (e: unknown) => e,
        );
      assert.ok(err instanceof CommitError, `expected CommitError, got ${String(err)}`);
      assert.equal(err.validationCode, 'ENDORSEMENT_POLICY_FAILURE');
      assert.equal((await devicesContract(ledger, ids.factory1).readDevice(d.deviceId)).keyVersion ?? 1, 1);
      // Endorsers picked by the ledger (the gateway's discovery on Fabric) include the owner, and it commits.
      const ok = await devicesContract(ledger, ids.factory1).rotateKey(d.deviceId, {
        certificateFingerprint: rotated.certificateFingerprint,
        publicKeyPem: rotated.publicKeyPem,
        note: 'new key',
      });
      assert.equal(ok.record.keyVersion, 2);
    });

    test('lists a factory’s anchors by the time of their last event, paged, each batch in one window only', async () => {
      // An hour of its own in 2090, so batches of other runs on a long-lived network stay out of the windows.
      const base = Date.UTC(2090, 0, 1) + (Number.parseInt(run, 16) % 500_000) * 3_600_000;
      const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
      const anchors = anchorsContract(ledger, ids.admin);
      for (const [name, first, last] of [
        ['t2', 20, 30],
        ['t1', 5, 10],
        ['t3', 50, 61],
      ] as const) {
        await anchors.anchorBatch({
          batchId: id(name),
          factoryMspId: Orgs.factory1,
          merkleRootHex: createHash('sha256').update(id(name)).digest('hex'),
          eventCount: 7,
          firstEventTime: at(first),
          lastEventTime: at(last),
        });
      }
      const reader = anchorsContract(ledger, ids.financier);
      const hour = { from: at(0), to: at(60) };
      const first = await reader.listByFactoryAndTime(Orgs.factory1, hour, { pageSize: 1 });
      const rest = await reader.listByFactoryAndTime(Orgs.factory1, hour, { pageSize: 10, bookmark: first.bookmark });
      assert.deepEqual(
        [...first.records, ...rest.records].map((r) => r.batchId),
        [id('t1'), id('t2')],
      );
      const next = await reader.listByFactoryAndTime(Orgs.factory1, { from: at(60), to: at(120) });
      assert.deepEqual(
        next.records.map((r) => r.batchId),
        [id('t3')],
      );
    });
  });
}

function seen(e: ChaincodeEvent, deviceId: string): boolean {
  return Buffer.from(e.payload).toString('utf8').includes(deviceId);
}
