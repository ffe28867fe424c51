import { type Static, Type } from 'typebox';

/**
 * A proof bundle: everything a financier, a brand or a consumer needs to check
 * a work order's production record without trusting our servers. Built by the
 * trace service, checked by `verifyProofBundle` (trace/verify-bundle.ts), which
 * needs only this data, pinned CA certificates and, optionally, a ledger to
 * confirm the anchor transactions. The schema serves the OpenAPI document and
 * filters responses; the type is derived from it so the two cannot drift.
 */
const Hex = Type.String({ pattern: '^[0-9a-f]*$' });

export const ProofBundleSchema = Type.Object({
  version: Type.Literal(1),
  generatedAt: Type.String(),
  workOrder: Type.Object({
    id: Type.String(),
    orderId: Type.String(),
    brandMspId: Type.String(),
    factoryMspId: Type.String(),
    quantity: Type.Integer(),
    termsHash: Hex,
    ledger: Type.Union([Type.Object({ txId: Type.String(), blockNumber: Type.Integer() }), Type.Null()]),
  }),
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
  anchors: Type.Record(
    Type.String(),
    Type.Object({
      batchId: Type.String(),
      factoryMspId: Type.String(),
      merkleRoot: Hex,
      eventCount: Type.Integer(),
      txId: Type.String(),
      blockNumber: Type.Integer(),
      blockHash: Type.Optional(Type.String()),
    }),
  ),
  devices: Type.Record(
    Type.String(),
    Type.Object({
      certificatePem: Type.String(),
      factoryMspId: Type.String(),
      certificateFingerprint: Hex,
      publicKeyPem: Type.String({ description: 'the key in force now' }),
      certificates: Type.Optional(
        Type.Record(Type.String(), Type.String(), { description: 'every certificate the device held, by fingerprint' }),
      ),
      states: Type.Array(
        Type.Object({
          from: Type.String(),
          status: Type.String(),
          validUntil: Type.Optional(Type.String()),
          publicKeyPem: Type.Optional(Type.String({ description: 'the key in force from this state on' })),
          certificateFingerprint: Type.Optional(Hex),
        }),
      ),
    }),
  ),
  caCertificates: Type.Record(Type.String(), Type.String()),
});

export type ProofBundle = Static<typeof ProofBundleSchema>;
