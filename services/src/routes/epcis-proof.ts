import { CodedError, ErrorCodes, OrgKinds } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas.js';
import { ProofBundleSchema } from '../trace/proof-bundle.js';

/**
 * `GET /epcis/events/{eventID}/proof`: the proof bundle of one EPCIS event (and of its error declaration, if
 * one is stored), checked offline by the same verifier as work-order bundles (CLI, browser, POST /proofs/verify).
 * Who may have it: whoever may see the event (its owner, the brand of its products, the brand and factory of
 * its work order, the platform, and finance for events of a work order); anyone else gets 404, as for an
 * unknown event.
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
      const user = request.user;
      const { rows } = await pool.query(
        `SELECT e.id FROM epcis_events e LEFT JOIN work_orders w ON w.id = e.work_order_id
         WHERE e.event_id = $1 AND (e.owner_msp = $2 OR e.brand_msp = $2 OR w.brand_msp = $2 OR w.factory_msp = $2
           OR $3 = '${OrgKinds.platform}' OR ($3 = '${OrgKinds.finance}' AND e.work_order_id IS NOT NULL))
         ORDER BY e.id`,
        [request.params.eventID, user.mspId, user.orgKind],
      );
      if (rows.length === 0)
        throw new CodedError(ErrorCodes.NOT_FOUND, `no EPCIS event ${request.params.eventID}`, 404);
      return trace.buildEpcisProofBundle(rows.map((r) => Number(r.id)));
    },
  );
};

export default routes;
