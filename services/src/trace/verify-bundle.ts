import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { parseDeviceMessage, verifyDeviceSignature } from '../iot/device-message.js';
import { certifiedAt } from '../iot/device-registry.js';
import { leafHash, rootFromProof } from './merkle.js';
import type { ProofBundle } from './proof-bundle.js';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface VerifyOptions {
  /** CA certificates the verifier trusts, by MSP id. Without them, the bundle's own are used (and said so). */
  readonly trustedCaCertificates?: Readonly<Record<string, string>>;
  /** Confirms an anchor on the ledger: the transaction is valid and the anchored root is this one. */
  readonly confirmAnchor?: (anchor: ProofBundle['anchors'][string]) => Promise<{ ok: boolean; detail: string }>;
  /** Verification time for certificate validity; defaults to now. */
  readonly at?: Date;
}

/** The key the ledger gave the device for time t: the latest state at or before t that names one. */
function keyInForce(device: ProofBundle['devices'][string], t: number): string {
  let key: string | undefined;
  for (const s of device.states) {
    if (Date.parse(s.from) <= t) key = s.publicKeyPem ?? key;
    else break;
  }
  return key ?? device.publicKeyPem;
}

function fingerprintOf(pem: string): string | undefined {
  try {
    return fingerprint(pem);
  } catch {
    return undefined;
  }
}

function fingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/**
 * Verifies a proof bundle stand-alone: node:crypto only, no servers. Every
 * event must be signed by its device, that device's certificate issued by its
 * factory's CA and bound to the ledger record, the device certified at the
 * event's time, the event's leaf on a Merkle path to an anchored root, and the
 * event about this work order from the work order's factory.
 */
export async function verifyProofBundle(bundle: ProofBundle, options: VerifyOptions = {}) {
  const checks: Check[] = [];
  const cas = options.trustedCaCertificates ?? bundle.caCertificates;
  checks.push({
    name: 'trust-anchors',
    ok: true,
    detail: options.trustedCaCertificates
      ? 'CA certificates pinned by the verifier'
      : "using the bundle's own CA certificates",
  });
  if (bundle.version !== 1)
    checks.push({ name: 'format', ok: false, detail: `unknown bundle version ${bundle.version}` });
  if (bundle.events.length === 0) checks.push({ name: 'events', ok: false, detail: 'the bundle holds no events' });

  // Devices: certificate chains to its factory's CA and matches the ledger's fingerprint and key.
  const goodDevices = new Set<string>();
  const now = options.at ?? new Date();
  for (const [deviceId, d] of Object.entries(bundle.devices)) {
    const problems: string[] = [];
    // Every key the ledger gave the device (now, and in each state after a rotation) must come with a
    // certificate from the factory's CA that carries that key and the fingerprint the ledger recorded.
    const held = new Map<string, string>([[d.certificateFingerprint, d.publicKeyPem]]);
    for (const s of d.states)
      if (s.certificateFingerprint && s.publicKeyPem) held.set(s.certificateFingerprint, s.publicKeyPem);
    const caPem = cas[d.factoryMspId];
    if (!caPem) problems.push(`no CA for ${d.factoryMspId}`);
    for (const [fp, keyPem] of held) {
      const pem = fingerprintOf(d.certificatePem) === fp ? d.certificatePem : d.certificates?.[fp];
      if (!pem) {
        problems.push(`no certificate with fingerprint ${fp.slice(0, 12)}…`);
        continue;
      }
      try {
        const cert = new X509Certificate(pem);
        if (caPem && !cert.verify(new X509Certificate(caPem).publicKey))
          problems.push(`not issued by ${d.factoryMspId}'s CA`);
        if (fingerprint(pem) !== fp) problems.push('fingerprint differs from the ledger');
        const certKey = cert.publicKey.export({ type: 'spki', format: 'der' });
        const ledgerKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
        if (!certKey.equals(ledgerKey)) problems.push('certificate key differs from the ledger key');
        if (now.getTime() < Date.parse(cert.validFrom) - 60_000) problems.push('certificate not yet valid');
      } catch (err) {
        problems.push(`unreadable certificate: ${(err as Error).message}`);
      }
    }
    if (problems.length === 0) goodDevices.add(deviceId);
    checks.push({
      name: `device ${deviceId}`,
      ok: problems.length === 0,
      detail:
        problems.join('; ') ||
        `${held.size === 1 ? 'certificate chains' : `${held.size} certificates (key rotations) chain`} to factory CA and match ledger record`,
    });
  }

  const counts = { signature: 0, certified: 0, merkle: 0, workOrder: 0 };
  const failures: Record<keyof typeof counts, string[]> = { signature: [], certified: [], merkle: [], workOrder: [] };
  for (const e of bundle.events) {
    let label = e.leafHash.slice(0, 12);
    try {
      const { envelope, body } = parseDeviceMessage(JSON.stringify({ body: e.message, sig: e.sig }), 1 << 20);
      label = `${body.deviceId}#${body.seq}`;
      const device = bundle.devices[body.deviceId];
      if (
        device &&
        goodDevices.has(body.deviceId) &&
        verifyDeviceSignature(envelope, keyInForce(device, Date.parse(body.time)))
      )
        counts.signature++;
      else failures.signature.push(label);
      const states = (device?.states ?? []).map((s) => ({
        from: Date.parse(s.from),
        status: s.status,
        validUntil: s.validUntil ? Date.parse(s.validUntil) : undefined,
      }));
      if (certifiedAt(states, Date.parse(body.time))) counts.certified++;
      else failures.certified.push(label);
      const anchor = bundle.anchors[e.batchId];
      if (
        leafHash(e.message) === e.leafHash &&
        anchor !== undefined &&
        rootFromProof(e.leafHash, e.proof) === anchor.merkleRoot
      ) {
        counts.merkle++;
      } else failures.merkle.push(label);
      if (body.data.workOrderId === bundle.workOrder.id && device?.factoryMspId === bundle.workOrder.factoryMspId) {
        counts.workOrder++;
      } else failures.workOrder.push(label);
    } catch (err) {
      for (const k of Object.keys(failures) as (keyof typeof counts)[])
        failures[k].push(`${label} (${(err as Error).message})`);
    }
  }
  const n = bundle.events.length;
  const summary = (k: keyof typeof counts, what: string) =>
    checks.push({
      name: what,
      ok: failures[k].length === 0,
      detail: `${counts[k]}/${n}${failures[k].length ? `; failing: ${failures[k].slice(0, 5).join(', ')}` : ''}`,
    });
  summary('signature', 'device signatures');
  summary('certified', 'device certified at event time');
  summary('merkle', 'Merkle paths to anchored roots');
  summary('workOrder', 'events belong to this work order and factory');

  for (const anchor of Object.values(bundle.anchors)) {
    if (anchor.factoryMspId !== bundle.workOrder.factoryMspId) {
      checks.push({ name: `anchor ${anchor.batchId}`, ok: false, detail: 'anchored for another factory' });
    }
    if (options.confirmAnchor) {
      const r = await options.confirmAnchor(anchor).catch((err: Error) => ({ ok: false, detail: err.message }));
      checks.push({ name: `anchor ${anchor.batchId} on ledger`, ok: r.ok, detail: r.detail });
    }
  }
  return { valid: checks.every((c) => c.ok), checks };
}
