import type { ProofBundleV2 } from '@c2m/shared';
import { type Static, Type } from 'typebox';

/**
 * A proof bundle (version 2): everything a financier, a brand or a consumer
 * needs to check a work order's production record offline, against trust
 * they pin themselves (org CAs, the endorsement policy), without any server:
 * the committed transactions that wrote the work order, each anchor and each
 * device's record history, with their blocks' headers and orderer signatures
 * (`@c2m/shared`'s verifyBundle, docs in services/README.md "Proof bundles").
 * Built by the trace service as a `full` bundle (a page of events, or one
 * batch) or a `summary` (anchors with their committed totals, and a sample of
 * events). The schema serves the OpenAPI document and filters responses; a
 * compile-time check keeps it equal to the verifier's type.
 */
const Hex = Type.String({ pattern: '^[0-9a-f]*$', maxLength: 128 });
const Totals = Type.Object({
  events: Type.Integer({ minimum: 0 }),
  units: Type.Integer({ minimum: 0 }),
  qcPass: Type.Integer({ minimum: 0 }),
  qcFail: Type.Integer({ minimum: 0 }),
});

export const ProofBundleSchema = Type.Object({
  version: Type.Literal(2),
  generatedAt: Type.String(),
  workOrder: Type.Union(
    [
      Type.Object({
        id: Type.String(),
        orderId: Type.String(),
        brandMspId: Type.String(),
        factoryMspId: Type.String(),
        quantity: Type.Integer({ description: 'part of the private terms: not checkable from the ledger' }),
        termsHash: Hex,
        ledger: Type.Union([Type.Object({ txId: Type.String(), blockNumber: Type.Integer() }), Type.Null()]),
        ledgerTxIds: Type.Array(Type.String(), { description: 'the transactions that wrote the record, oldest first' }),
      }),
      Type.Null(),
    ],
    { description: 'null in a bundle that proves EPCIS events only' },
  ),
  events: Type.Array(
    Type.Object({
      message: Type.String({ description: 'the exact canonical JSON the device signed' }),
      sig: Type.String({ description: 'ES256 r||s, base64url' }),
      leafHash: Hex,
      batchId: Type.String(),
      proof: Type.Array(
        Type.Object({ position: Type.Union([Type.Literal('left'), Type.Literal('right')]), hash: Hex }),
      ),
    }),
  ),
  epcisEvents: Type.Optional(
    Type.Array(
      Type.Object({
        message: Type.String({
          description: 'the exact canonical JSON signed and hashed into the leaf (c2m.epcis.event.v1)',
        }),
        signature: Type.String({ description: 'ECDSA P-256 over SHA-256(message), DER, base64' }),
        signerCertificate: Type.String({ description: "the signer's X.509 certificate, PEM" }),
        leafHash: Hex,
        batchId: Type.String(),
        proof: Type.Array(
          Type.Object({ position: Type.Union([Type.Literal('left'), Type.Literal('right')]), hash: Hex }),
        ),
      }),
    ),
  ),
  anchors: Type.Record(
    Type.String(),
    Type.Object({
      batchId: Type.String(),
      factoryMspId: Type.String(),
      merkleRoot: Hex,
      eventCount: Type.Integer(),
      txId: Type.String(),
      blockNumber: Type.Integer(),
      blockHash: Hex,
      totals: Type.Optional(Type.Record(Type.String(), Totals)),
    }),
  ),
  devices: Type.Record(
    Type.String(),
    Type.Object({
      certificatePem: Type.String(),
      factoryMspId: Type.String(),
      certificateFingerprint: Hex,
      publicKeyPem: Type.String({ description: 'the key in force now' }),
      certificates: Type.Record(Type.String(), Type.String(), {
        description: 'every certificate the device held, by fingerprint',
      }),
      states: Type.Array(
        Type.Object({
          from: Type.String(),
          status: Type.String(),
          validUntil: Type.Optional(Type.String()),
          publicKeyPem: Type.Optional(Type.String({ description: 'the key in force from this state on' })),
          certificateFingerprint: Type.Optional(Hex),
        }),
      ),
      ledgerTxIds: Type.Array(Type.String(), { description: 'the transactions that wrote the record, oldest first' }),
    }),
  ),
  transactions: Type.Record(
    Type.String(),
    Type.Object({
      envelope: Type.String({ description: 'the committed Fabric Envelope protobuf, base64' }),
      blockNumber: Type.Integer(),
      txIndex: Type.Integer(),
    }),
  ),
  blocks: Type.Record(
    Type.String(),
    Type.Object({
      header: Type.Object({ number: Type.Integer(), previousHash: Hex, dataHash: Hex }),
      txHashes: Type.Array(Hex),
      validationCodes: Type.Array(Type.String()),
      ordererSignature: Type.Object({
        mspId: Type.String(),
        certificatePem: Type.String(),
        signature: Type.String({ description: 'DER ECDSA, base64' }),
      }),
    }),
  ),
  caCertificates: Type.Record(Type.String(), Type.String()),
  endorsementPolicy: Type.String(),
  publicCheckpoint: Type.Optional(Type.Unknown()),
});

export type ProofBundle = Static<typeof ProofBundleSchema>;

// What the schema describes must be what the verifier reads (a compile error here means they drifted).
const schemaFitsVerifier: ProofBundle extends ProofBundleV2 ? true : never = true;
void schemaFitsVerifier;
