import { CodedError, ErrorCodes, OrgKinds } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas.js';

export const User = Type.Object({
  username: Type.String(),
  mspId: Type.String(),
  orgKind: Type.Enum(OrgKinds),
  role: Type.String(),
  displayName: Type.String(),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { platform } = fastify;

  fastify.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a username and password for a bearer token',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 256 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ token: Type.String(), user: User }), ...errorResponses },
      },
    },
    async (request) => {
      const user = await platform.identity.authenticate(request.body.username, request.body.password);
      if (!user) throw new CodedError(ErrorCodes.UNAUTHENTICATED, 'Unknown user or wrong password', 401);
      const claims = {
        username: user.username,
        mspId: user.mspId,
        orgKind: user.orgKind,
        role: user.role,
        displayName: user.displayName,
      };
      return { token: fastify.jwt.sign(claims), user: claims };
    },
  );

  fastify.get(
    '/me',
    {
      onRequest: [fastify.authenticate],
      schema: { tags: ['auth'], security: [{ bearer: [] }], response: { 200: User, ...errorResponses } },
    },
    async (request) => request.user,
  );

  fastify.get(
    '/orgs',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['auth'],
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                mspId: Type.String(),
                kind: Type.Enum(OrgKinds),
                name: Type.String(),
                nameZh: Type.String(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async () => ({
      items: platform.identity
        .orgs()
        .map((o) => ({ mspId: o.mspId, kind: o.kind, name: o.names.en, nameZh: o.names.zh })),
    }),
  );
};

export default routes;
