import { createHash } from 'node:crypto';
import type { LedgerIdentity } from '@c2m/shared';
import type { EventSigner } from './from-device.js';

/**
 * An EPCIS event signer over a ledger identity the platform holds (a user's, or the platform's service
 * identity): the same key and certificate that sign the identity's ledger transactions, so a proof names the
 * same org and user the ledger knows. DER ECDSA P-256 over SHA-256 of the message bytes, base64.
 */
export function identityEventSigner(identity: LedgerIdentity, name: string): EventSigner {
  return {
    mspId: identity.mspId,
    name,
    certificatePem: identity.certificatePem,
    async sign(message: string): Promise<string> {
      const bytes = Buffer.from(message, 'utf8');
      const der = identity.signMessage
        ? await identity.signMessage(bytes)
        : await identity.sign(createHash('sha256').update(bytes).digest());
      return Buffer.from(der).toString('base64');
    },
  };
}
