import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openIdentityStore } from '../src/index.js';

test("identities sign whole messages (the ledger's fast path) with the same key as their digest signer", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-id-fast-'));
  try {
    const store = await openIdentityStore({ dataDir: dir });
    const id = store.userIdentity('factory1');
    assert.ok(id.signMessage, 'store identities offer signMessage');
    const message = Buffer.from('proposal bytes');
    const key = createPublicKey(id.certificatePem);
    const fast = await id.signMessage(message);
    const slow = await id.sign(createHash('sha256').update(message).digest());
    assert.ok(verify('sha256', message, key, fast));
    assert.ok(verify('sha256', message, key, slow));
    assert.equal(verify('sha256', Buffer.from('other bytes'), key, fast), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
