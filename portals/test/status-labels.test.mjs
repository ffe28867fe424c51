// Every status the services can give an order, an offer or a device has a label in English and in Chinese, so
// the portals never show a raw key. The statuses come from the services' own lists (their compiled
// OrderStatuses and OfferStatuses, @c2m/shared's DeviceStatuses), not from the portals' copies; the labels from
// the portals' i18n sources. (At compile time the same holds through the OpenAPI enums: src/api/types.ts.)

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DeviceStatuses } from '@c2m/shared';
import ts from 'typescript';

const portalsDir = path.resolve(import.meta.dirname, '..');
const ordersService = path.resolve(portalsDir, '../services/dist/src/orders/orders-service.js');

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
  test('every order, offer and device status of the services has an English and a Chinese label', async () => {
    assert.ok(
      existsSync(ordersService),
      `${ordersService} is missing: build the services first (npx tsc --build services)`,
    );
    const { OrderStatuses, OfferStatuses } = await import(pathToFileURL(ordersService).href);
    const kinds = {
      orderStatus: Object.values(OrderStatuses),
      offerStatus: [...OfferStatuses],
      deviceStatus: Object.values(DeviceStatuses),
    };
    // The lists are what they say: shipped, delivered and closed orders, withdrawn offers.
    for (const s of ['draft', 'shipped', 'delivered', 'closed', 'cancelled'])
      assert.ok(kinds.orderStatus.includes(s), s);
    assert.ok(kinds.offerStatus.includes('withdrawn'));

    const en = await strings('en.ts', 'en');
    const zh = await strings('zh.ts', 'zh');
    const missing = [];
    for (const [kind, statuses] of Object.entries(kinds)) {
      for (const status of statuses) {
        const e = en[kind]?.[status];
        const z = zh[kind]?.[status];
        if (typeof e !== 'string' || e.trim() === '' || e === status) missing.push(`en ${kind}.${status}`);
        if (typeof z !== 'string' || !/\p{Script=Han}/u.test(z)) missing.push(`zh ${kind}.${status}`);
      }
    }
    assert.deepEqual(missing, [], 'statuses without a label');
    assert.equal(en.orderStatus.shipped, 'Shipped');
    assert.equal(zh.orderStatus.shipped, '已发货');
  });
});
