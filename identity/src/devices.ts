import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CodedError, ErrorCodes } from '@c2m/shared';
import { importSigningKey, importVerifyingKey, SIGNING_ALGORITHM, x509 } from './x509.js';

export interface DeviceKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface DeviceSubject {
  readonly deviceId: string;
  readonly mspId: string;
}

/** Device ids appear in MQTT topics and certificate CNs: no '/', '+', '#' or spaces. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** A fresh P-256 key pair. On real hardware the key is generated on the device and only the CSR leaves it. */
export function generateDeviceKeyPair(): DeviceKeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** A PKCS#10 request (PEM) for CN=deviceId, O=mspId, signed with the device key (proof of possession). */
export async function createDeviceCsr(
  privateKey: KeyObject,
  publicKey: KeyObject,
  subject: DeviceSubject,
): Promise<string> {
  assertDeviceId(subject.deviceId);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ O: [subject.mspId] }, { CN: [subject.deviceId] }],
    keys: {
      privateKey: await importSigningKey(privateKey),
      publicKey: await importVerifyingKey(publicKey),
    },
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return csr.toString('pem');
}

export function assertDeviceId(deviceId: string): void {
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    throw new CodedError(
      ErrorCodes.VALIDATION_FAILED,
      `device id must match ${DEVICE_ID_PATTERN.source}, got ${JSON.stringify(deviceId)}`,
    );
  }
}

/**
 * The public key (SPKI PEM) a PKCS#10 request carries, without checking its
 * signature (`issueDeviceCertificate` does that). Lets a registrar recognise a
 * request for a key it has already registered. Throws VALIDATION_FAILED.
 */
export function csrPublicKeyPem(csrPem: string): string {
  try {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    return createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
  } catch {
    throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'CSR is not a PEM PKCS#10 request');
  }
}
