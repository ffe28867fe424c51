/**
 * Just enough X.509 (DER) for the offline verifier: the parts of a
 * certificate a Fabric MSP looks at (issuer and subject names, validity, the
 * subject's OUs, the public key) and the check that a CA signed it, on
 * WebCrypto with ECDSA P-256/P-384, the curves Fabric CAs use.
 */
import { type Digest, equalBytes, pemToDer, sha256, toHex } from './bytes.js';

interface Tlv {
  readonly tag: number;
  /** The whole element, header included. */
  readonly raw: Uint8Array;
  readonly value: Uint8Array;
}

function readTlv(buf: Uint8Array, at: number): Tlv & { end: number } {
  if (at + 2 > buf.length) throw new Error('DER: truncated');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let pos = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
  }
  const end = pos + len;
  if (end > buf.length) throw new Error('DER: truncated value');
  return { tag, raw: buf.subarray(at, end), value: buf.subarray(pos, end), end };
}

function children(value: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < value.length) {
    const t = readTlv(value, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function oid(bytes: Uint8Array): string {
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let n = 0;
  for (const b of bytes.subarray(1)) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

function time(t: Tlv): number {
  const s = new TextDecoder().decode(t.value);
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`X.509: unsupported time ${s}`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

const OID_OU = '2.5.4.11';
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVES: Record<string, { name: 'P-256' | 'P-384'; size: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32 },
  '1.3.132.0.34': { name: 'P-384', size: 48 },
};
const SIG_ALGS: Record<string, Digest> = { '1.2.840.10045.4.3.2': 'SHA-256', '1.2.840.10045.4.3.3': 'SHA-384' };

export interface EcPublicKey {
  readonly spki: Uint8Array;
  readonly curve: 'P-256' | 'P-384';
  readonly size: number;
}

export interface Certificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signatureDigest: Digest;
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly organizationalUnits: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly publicKey: EcPublicKey;
}

export function parseSpki(spki: Uint8Array): EcPublicKey {
  const seq = readTlv(spki, 0);
  if (seq.end !== spki.length) throw new Error('SPKI: trailing bytes');
  const [alg] = children(seq.value);
  const [algOid, curveOid] = children(alg!.value);
  if (oid(algOid!.value) !== OID_EC_PUBLIC_KEY) throw new Error('only EC public keys are supported');
  const curve = CURVES[oid(curveOid!.value)];
  if (!curve) throw new Error('unsupported EC curve');
  return { spki, curve: curve.name, size: curve.size };
}

export function parseCertificate(der: Uint8Array): Certificate {
  const top = readTlv(der, 0);
  if (top.tag !== 0x30 || top.end !== der.length) throw new Error('X.509: not one DER certificate');
  const [tbsT, sigAlgT, sigT] = children(top.value);
  if (!tbsT || !sigAlgT || !sigT || sigT.tag !== 0x03) throw new Error('X.509: malformed certificate');
  const digestAlg = SIG_ALGS[oid(children(sigAlgT.value)[0]!.value)];
  if (!digestAlg) throw new Error('X.509: unsupported signature algorithm');
  const tbs = children(tbsT.value);
  const offset = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = tbs[offset + 2];
  const validity = tbs[offset + 3];
  const subject = tbs[offset + 4];
  const spki = tbs[offset + 5];
  if (!issuer || !validity || !subject || !spki) throw new Error('X.509: malformed TBS');
  const [nb, na] = children(validity.value);
  const ous: string[] = [];
  for (const rdn of children(subject.value)) {
    for (const atv of children(rdn.value)) {
      const [type, value] = children(atv.value);
      if (type && value && oid(type.value) === OID_OU) ous.push(new TextDecoder().decode(value.value));
    }
  }
  return {
    der,
    tbs: tbsT.raw,
    signatureDigest: digestAlg,
    signature: sigT.value.subarray(1),
    issuer: issuer.raw,
    subject: subject.raw,
    organizationalUnits: ous,
    notBefore: time(nb!),
    notAfter: time(na!),
    publicKey: parseSpki(spki.raw),
  };
}

export function parseCertificatePem(pem: string): Certificate {
  return parseCertificate(pemToDer(pem));
}

export async function certificateFingerprint(cert: Certificate): Promise<string> {
  return toHex(await sha256(cert.der));
}

/** DER ECDSA-Sig-Value → WebCrypto's r‖s, each left-padded to the curve size. */
export function derSignatureToRaw(der: Uint8Array, size: number): Uint8Array {
  const seq = readTlv(der, 0);
  if (seq.tag !== 0x30 || seq.end !== der.length) throw new Error('not a DER ECDSA signature');
  const parts = children(seq.value);
  if (parts.length !== 2) throw new Error('not a DER ECDSA signature');
  const out = new Uint8Array(size * 2);
  parts.forEach((p, i) => {
    if (p.tag !== 0x02) throw new Error('not a DER ECDSA signature');
    let v = p.value;
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new Error('ECDSA integer too long');
    out.set(v, i * size + size - v.length);
  });
  return out;
}

type VerifyKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;
const keys = new Map<string, Promise<VerifyKey>>();

export function importEcKey(key: EcPublicKey): Promise<VerifyKey> {
  const id = toHex(key.spki);
  let k = keys.get(id);
  if (!k) {
    k = globalThis.crypto.subtle.importKey(
      'spki',
      key.spki as Uint8Array<ArrayBuffer>,
      { name: 'ECDSA', namedCurve: key.curve },
      false,
      ['verify'],
    );
    keys.set(id, k);
    if (keys.size > 10_000) keys.delete(keys.keys().next().value as string);
  }
  return k;
}

/** ECDSA over `digest(message)`, signature raw r‖s. */
export async function verifyRaw(
  key: EcPublicKey,
  message: Uint8Array,
  raw: Uint8Array,
  hash: Digest = 'SHA-256',
): Promise<boolean> {
  if (raw.length !== key.size * 2) return false;
  return globalThis.crypto.subtle.verify(
    { name: 'ECDSA', hash },
    await importEcKey(key),
    raw as Uint8Array<ArrayBuffer>,
    message as Uint8Array<ArrayBuffer>,
  );
}

/** ECDSA over `digest(message)`, signature DER (Fabric's and X.509's form). */
export async function verifyDer(
  key: EcPublicKey,
  message: Uint8Array,
  der: Uint8Array,
  hash: Digest = 'SHA-256',
): Promise<boolean> {
  let raw: Uint8Array;
  try {
    raw = derSignatureToRaw(der, key.size);
  } catch {
    return false;
  }
  return verifyRaw(key, message, raw, hash);
}

/** True when `ca` issued `cert`: names chain and the CA's key verifies the signature over the TBS. */
export async function issuedBy(cert: Certificate, ca: Certificate): Promise<boolean> {
  if (!equalBytes(cert.issuer, ca.subject)) return false;
  return verifyDer(ca.publicKey, cert.tbs, cert.signature, cert.signatureDigest);
}
