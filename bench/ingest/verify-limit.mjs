// One thread's raw ES256 verification rate with cached KeyObjects: the
// machine's own limit that the ingest is compared against.
import { createPublicKey, verify } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const samples = workerData.samples.map((s) => ({
  key: createPublicKey({ key: Buffer.from(s.spki), format: 'der', type: 'spki' }),
  body: Buffer.from(s.body),
  sig: Buffer.from(s.sig, 'base64url'),
}));
const until = performance.now() + workerData.ms;
let n = 0;
let ok = 0;
while (performance.now() < until) {
  for (let i = 0; i < 64; i++) {
    const s = samples[n % samples.length];
    if (verify('sha256', s.body, { key: s.key, dsaEncoding: 'ieee-p1363' }, s.sig)) ok++;
    n++;
  }
}
parentPort.postMessage({ n, ok, ms: workerData.ms });
