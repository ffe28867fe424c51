import { createPrivateKey } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSigner } from '@c2m/identity';
import type { LedgerIdentity } from '@c2m/shared';

/** A ledger identity from a certificate and a private key file (PEM), as cryptogen and fabric-ca-client write them. */
export async function loadIdentityFiles(files: {
  readonly mspId: string;
  readonly certPath: string;
  readonly keyPath: string;
}): Promise<LedgerIdentity> {
  const [certificatePem, keyPem] = await Promise.all([
    readFile(files.certPath, 'utf8'),
    readFile(files.keyPath, 'utf8'),
  ]);
  return { mspId: files.mspId, certificatePem, sign: createSigner(createPrivateKey(keyPem)) };
}

/**
 * A ledger identity from an MSP folder (`signcerts/` holds one certificate,
 * `keystore/` one key: `priv_sk` from cryptogen, `<ski>_sk` from Fabric CA).
 */
export async function loadMspIdentity(mspId: string, mspDir: string): Promise<LedgerIdentity> {
  const only = async (sub: string) => {
    const names = (await readdir(join(mspDir, sub))).filter((n) => !n.startsWith('.'));
    if (names.length !== 1) throw new Error(`${join(mspDir, sub)} must hold exactly one file, found ${names.length}`);
    return join(mspDir, sub, names[0]!);
  };
  return loadIdentityFiles({ mspId, certPath: await only('signcerts'), keyPath: await only('keystore') });
}
