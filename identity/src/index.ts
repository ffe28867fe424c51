export { type AdoptedCaMaterial, type CaFiles, findCaFiles } from './adopted-ca.js';
export {
  certificateFingerprint,
  type IdentityCertificateInfo,
  parseIdentityCertificate,
  publicKeyFromCertificate,
  verifyCertificateChain,
} from './certificates.js';
export { demoConsortium, demoUsers, type OrgDescription, type UserSeed } from './consortium.js';
export { CryptoPool, type MessageVerifier, sharedCryptoPool } from './crypto-pool.js';
export {
  createDeviceCsr,
  csrPublicKeyPem,
  DEVICE_ID_PATTERN,
  type DeviceKeyPair,
  type DeviceSubject,
  generateDeviceKeyPair,
} from './devices.js';
export { hashPassword, hashPasswordSync, verifyPassword, verifyPasswordSync } from './passwords.js';
export {
  createSigner,
  isLowS,
  type SignedData,
  signMessage,
  type VerifyOptions,
  verifySignature,
} from './signer.js';
export {
  type DeviceCertificateOptions,
  type IdentityStore,
  type OpenIdentityStoreOptions,
  type OrgRecord,
  openIdentityStore,
  type TlsCertificateOptions,
  type TlsCredentials,
  type UserRecord,
} from './store.js';
export { FABRIC_ATTRS_OID, type OrganizationalUnit, OrganizationalUnits } from './x509.js';
