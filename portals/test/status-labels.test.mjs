// Every status the services can give an order, an offer, a work order, a device (and a version in its ledger
// history), an anchor, a fleet upload and its rows, and a forecast run has a label in English and in Chinese, so
// the portals never show a raw key. The statuses come from the services' own lists (their compiled modules and
// @c2m/shared's DeviceStatuses), not from the portals' copies; the labels from the portals' i18n sources. (At
// compile time the portals' copies equal the OpenAPI enums: src/api/types.ts, src/api/openapi-conformance.ts.)

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DeviceStatuses } from '@c2m/shared';
import ts from 'typescript';

const portalsDir = path.resolve(import.meta.dirname, '..');
const servicesDist = path.resolve(portalsDir, '../services/dist/src');

/** A compiled services module; the services must have been built. */
async function services(file) {
  const compiled = path.join(servicesDist, file);
  assert.ok(existsSync(compiled), `${compiled} is missing: build the services first (npx tsc --build services)`);
  return import(pathToFileURL(compiled).href);
}

/** The portals' strings for one language: the i18n source (plain object literals) compiled to a module. */
async function strings(file, name) {
  const source = await readFile(path.join(portalsDir, 'src/i18n', file), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const mod = await import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
  return mod[name];
}

describe('status labels', () => {
  test('every status of the services has an English and a Chinese label', async () => {
    const { OrderStatuses, OfferStatuses, WorkOrderStatuses } = await services('orders/orders-service.js');
    const { DeviceHistoryStatuses } = await services('iot/devices-service.js');
    const { BulkJobStates, BulkRowStatuses } = await services('iot/device-bulk.js');
    const { AnchorStatuses } = await services('trace/trace-service.js');
    const { RunStatuses } = await services('demand/forecast-runs.js');
    // Each list with the i18n key its labels sit under.
    const lists = [
      { name: 'OrderStatuses', key: 'orderStatus', statuses: Object.values(OrderStatuses) },
      { name: 'OfferStatuses', key: 'offerStatus', statuses: [...OfferStatuses] },
      { name: 'WorkOrderStatuses', key: 'workOrderStatus', statuses: Object.values(WorkOrderStatuses) },
      { name: 'DeviceStatuses', key: 'deviceStatus', statuses: Object.values(DeviceStatuses) },
      { name: 'DeviceHistoryStatuses', key: 'deviceStatus', statuses: [...DeviceHistoryStatuses] },
      { name: 'AnchorStatuses', key: 'anchorStatus', statuses: [...AnchorStatuses] },
      { name: 'BulkJobStates', key: 'bulkJobState', statuses: [...BulkJobStates] },
      { name: 'BulkRowStatuses', key: 'bulkRowStatus', statuses: [...BulkRowStatuses] },
      { name: 'RunStatuses', key: 'forecast.status', statuses: [...RunStatuses] },
    ];
    // The lists are what they say (an import that silently gave nothing would pass the loop below).
    for (const s of ['draft', 'shipped', 'delivered', 'closed', 'cancelled'])
      assert.ok(lists[0].statuses.includes(s), s);
    assert.ok(lists[1].statuses.includes('withdrawn'));
    assert.deepEqual(lists[2].statuses, ['committing', 'committed', 'produced', 'qc_passed', 'shipped', 'delivered']);
    assert.ok(lists[4].statuses.includes('DELETED') && lists[4].statuses.includes('REVOKED'));
    assert.deepEqual(lists[5].statuses, ['pending', 'anchored']);
    for (const s of ['waiting', 'active', 'completed', 'failed', 'unknown'])
      assert.ok(lists[6].statuses.includes(s), s);
    assert.ok(lists[7].statuses.includes('already_registered'));
    assert.ok(lists[8].statuses.includes('running'));

    const en = await strings('en.ts', 'en');
    const zh = await strings('zh.ts', 'zh');
    const at = (dict, key) => key.split('.').reduce((d, k) => d?.[k], dict);
    const missing = [];
    for (const { name, key, statuses } of lists) {
      for (const status of statuses) {
        const e = at(en, key)?.[status];
        const z = at(zh, key)?.[status];
        if (typeof e !== 'string' || e.trim() === '' || e === status) missing.push(`en ${key}.${status} (${name})`);
        if (typeof z !== 'string' || !/\p{Script=Han}/u.test(z)) missing.push(`zh ${key}.${status} (${name})`);
      }
    }
    assert.deepEqual(missing, [], 'statuses without a label');
    assert.equal(en.orderStatus.shipped, 'Shipped');
    assert.equal(zh.orderStatus.shipped, '已发货');
    assert.equal(en.workOrderStatus.qc_passed, 'QC passed');
    assert.equal(zh.workOrderStatus.qc_passed, '质检通过');
  });
});
