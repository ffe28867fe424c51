import { CodedError, ErrorCodes } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { accessSql } from '../epcis/query.js';
import { errorResponses } from '../schemas.js';
import { ProofBundleSchema } from '../trace/proof-bundle.js';

/**
 * `GET /epcis/events/{eventID}/proof`: the proof bundle of one EPCIS event (and of its error declaration, if
 * one is stored), checked offline by the same verifier as work-order bundles (CLI, browser, POST /proofs/verify).
 * Who may have it: whoever may see the event in the query (epcis/query.ts `accessSql`: its owner, the brand
 * of its products, the brand and factory of its work order, the platform's administrator, the certifier for
 * device-derived events, and finance for events of a work order); anyone else gets 404, as for an unknown event.
 */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { trace, pool } = fastify.platform;

  fastify.get(
    '/epcis/events/:eventID/proof',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['epcis', 'proofs'],
        summary:
          "An EPCIS event's proof bundle: its signed message, signer certificate and signature, Merkle path to its anchored batch, source device messages of a device-derived event, and the ledger transactions that prove the anchors (409 until anchored)",
        security: [{ bearer: [] }],
        params: Type.Object({ eventID: Type.String({ minLength: 1, maxLength: 1024 }) }),
        response: { 200: ProofBundleSchema, ...errorResponses },
      },
    },
    async (request) => {
      // The same rule as the query's (epcis/query.ts accessSql): whoever may query the event may have its proof.
      const params: unknown[] = [request.params.eventID];
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      const { rows } = await pool.query(
        `SELECT e.id FROM epcis_events e WHERE e.event_id = $1 AND ${accessSql(request.user, p)} ORDER BY e.id`,
        params,
      );
      if (rows.length === 0)
        throw new CodedError(ErrorCodes.NOT_FOUND, `no EPCIS event ${request.params.eventID}`, 404);
      return trace.buildEpcisProofBundle(rows.map((r) => Number(r.id)));
    },
  );
};

export default routes;
