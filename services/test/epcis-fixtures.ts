import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { canonicalUri } from '../src/epcis/canonical.js';
import { type TestPlatform, waitFor } from './helpers.js';

// GS1's own example documents (fixtures/gs1-epcis/README.md names source and licence).
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/gs1-epcis');
export const gs1Example = async (name: string): Promise<string> => readFile(path.join(FIXTURES, name), 'utf8');

export type Doc = { epcisBody: { eventList: Record<string, unknown>[] }; [k: string]: unknown };

export async function ownLocations(t: TestPlatform, mspId: string, urns: readonly string[]): Promise<void> {
  for (const urn of urns) {
    const uri = canonicalUri(urn);
    const m = /\/414\/(\d{13})(?:\/254\/(.+))?$/.exec(uri);
    assert.ok(m, `${urn} is a GLN`);
    await t.platform.pool.query(
      `INSERT INTO gs1_locations (uri, gln, extension, owner_msp, kind, name) VALUES ($1,$2,$3,$4,$5,$6)
       ON CONFLICT (uri) DO UPDATE SET owner_msp = EXCLUDED.owner_msp`,
      [uri, m[1], m[2] ?? '', mspId, m[2] ? 'line' : 'site', urn],
    );
  }
}

export async function capture(
  t: TestPlatform,
  token: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<request.Response> {
  let req = request(t.app.server)
    .post('/api/epcis/capture')
    .set('authorization', `Bearer ${token}`)
    .set('content-type', 'application/ld+json');
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  return req.send(body);
}

export async function finished(t: TestPlatform, token: string, captureID: string) {
  return waitFor(`capture ${captureID}`, async () => {
    const res = await request(t.app.server)
      .get(`/api/epcis/capture/${captureID}`)
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    return res.body.running ? undefined : res.body;
  });
}
