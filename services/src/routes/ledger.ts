import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas.js';

const ProjectionStatus = Type.Object({
  running: Type.Boolean(),
  checkpoint: Type.Union([Type.Object({ blockNumber: Type.Integer(), txId: Type.String() }), Type.Null()]),
  ledgerHeight: Type.Integer(),
  lagBlocks: Type.Integer({ description: 'Blocks committed after the checkpoint block (an upper bound on the lag).' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
});

/** The ledger read models' progress: which committed transaction they reflect, and how far behind they are. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { projection } = fastify.platform;
  fastify.get(
    '/ledger/projection',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['ledger'],
        summary: 'Ledger read-model projection: checkpoint and lag',
        security: [{ bearer: [] }],
        response: { 200: ProjectionStatus, ...errorResponses },
      },
    },
    async () => projection.status(),
  );
};

export default routes;
