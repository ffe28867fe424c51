import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createActivityVisibility } from '../auth/activity-visibility.js';
import { errorResponses } from '../schemas.js';
import { ProofBundleSchema } from '../trace/proof-bundle.js';
import { AnchorStatuses } from '../trace/trace-service.js';

/** What every view of an anchored batch says about the batch itself. */
const batchFields = {
  batchId: Type.String(),
  factoryMspId: Type.String(),
  merkleRoot: Type.String(),
  eventCount: Type.Integer(),
  firstEventTime: Type.String(),
  lastEventTime: Type.String(),
};

/** A batch as the platform's database tracks it, anchored or still pending. */
const Anchor = Type.Object({
  ...batchFields,
  status: Type.Enum(AnchorStatuses),
  txId: Type.Union([Type.String(), Type.Null()]),
  blockNumber: Type.Union([Type.Integer(), Type.Null()]),
});

/** An anchor as the chaincode holds it. */
const LedgerAnchorView = Type.Object({
  ...batchFields,
  anchoredAt: Type.String(),
  anchoredBy: Type.Object({ mspId: Type.String(), cn: Type.String() }),
  txId: Type.String(),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { trace, ledger, ledgerAccess, pool } = fastify.platform;
  const secured = { security: [{ bearer: [] }] };
  // Factories do not see each other's activity (auth/activity-visibility.ts).
  const visibility = createActivityVisibility(pool);

  fastify.get(
    '/anchors',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['proofs'],
        summary:
          "The latest batches the caller may see: a factory its own, a brand those holding its work orders' events, platform and financiers all",
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(Anchor) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await visibility.anchors(request.user) }),
  );

  fastify.get(
    '/factories/:mspId/anchors',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['proofs'],
        summary:
          "A factory's anchored batches whose last event lies in [from, to), oldest first, read from the ledger by the chaincode as the caller (not from the platform's database)",
        ...secured,
        params: Type.Object({ mspId: Type.String({ minLength: 1, maxLength: 128 }) }),
        querystring: Type.Object(
          {
            from: Type.String({ format: 'date-time' }),
            to: Type.String({ format: 'date-time' }),
            pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            bookmark: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(LedgerAnchorView), bookmark: Type.String() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      visibility.assertMayWatchFactory(request.user, request.params.mspId);
      const { from, to, pageSize, bookmark } = request.query;
      const page = await ledgerAccess.listAnchorsByTime(
        request.user.username,
        request.params.mspId,
        { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        { pageSize: pageSize ?? 50, ...(bookmark ? { bookmark } : {}) },
      );
      return { items: page.records, bookmark: page.bookmark };
    },
  );

  // The trust a verifier pins: public material (CA certificates, the channel's policy). A verifier should get it
  // out of band from the consortium; the portal pins it on first use and keeps that copy (portals/src/proof/trust.ts).
  fastify.get(
    '/proofs/trust',
    {
      schema: {
        tags: ['proofs'],
        summary: "The consortium's CA certificates, endorsement policy, channel, chaincode and orderer orgs, to pin",
        response: {
          200: Type.Object({
            caCertificates: Type.Record(Type.String(), Type.String()),
            endorsementPolicy: Type.String(),
            channel: Type.String(),
            chaincode: Type.String(),
            ordererMspIds: Type.Array(Type.String()),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const t = trace.trust();
      return {
        caCertificates: t.caCertificates,
        endorsementPolicy: trace.endorsementPolicyText(),
        channel: t.channel,
        chaincode: t.chaincode,
        ordererMspIds: [...t.ordererMspIds],
      };
    },
  );

  // Anyone may verify a bundle: verification reveals nothing the bundle does not already hold.
  fastify.post(
    '/proofs/verify',
    {
      // A summary bundle is about 10 kB per batch (1,000,000 events: 9.7 MB); a full page of 5,000 events about 8 MB.
      bodyLimit: 12 * 1024 * 1024,
      schema: {
        tags: ['proofs'],
        summary:
          "Verify a proof bundle offline with the consortium's CAs and endorsement policy pinned (on a worker thread; 503 VERIFIER_BUSY when all are busy)",
        body: Type.Object({ bundle: ProofBundleSchema }),
        response: {
          200: Type.Object({
            valid: Type.Boolean(),
            checks: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.String() })),
            totals: Type.Object({
              events: Type.Integer(),
              units: Type.Integer(),
              qcPass: Type.Integer(),
              qcFail: Type.Integer(),
              batches: Type.Integer(),
              batchesWithoutTotals: Type.Integer(),
            }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const r = await trace.verify(request.body.bundle);
      return { valid: r.valid, checks: [...r.checks], totals: r.totals };
    },
  );

  fastify.get(
    '/ledger',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['ledger'],
        summary: 'Ledger height and the latest blocks',
        ...secured,
        response: {
          200: Type.Object({
            kind: Type.String(),
            height: Type.Integer(),
            blocks: Type.Array(
              Type.Object({
                number: Type.Integer(),
                hash: Type.String(),
                previousHash: Type.String(),
                txCount: Type.Integer(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const height = await ledger.height();
      const blocks = [];
      for (let n = height - 1; n >= Math.max(0, height - 10); n--) {
        const b = await ledger.block(n);
        blocks.push({ number: b.number, hash: b.hash, previousHash: b.previousHash, txCount: b.transactions.length });
      }
      return { kind: ledger.kind, height, blocks };
    },
  );
};

export default routes;
