import { CodedError, ErrorCodes, OrgKinds } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Account } from '../auth/accounts.js';
import { RevokeReasons } from '../auth/sessions.js';
import type { AccessClaims } from '../plugins/auth.js';
import { errorResponses } from '../schemas.js';

export const User = Type.Object({
  username: Type.String(),
  mspId: Type.String(),
  orgKind: Type.Enum(OrgKinds),
  role: Type.String(),
  displayName: Type.String(),
});

const Tokens = Type.Object({
  /** Bearer token for API calls; short-lived. */
  token: Type.String(),
  /** Seconds until `token` expires. */
  expiresIn: Type.Integer(),
  /** Exchanged at /api/auth/refresh for a new pair; single use; ends with the session. */
  refreshToken: Type.String(),
  /** When the session ends, whatever refreshing (ISO time). */
  sessionExpiresAt: Type.String(),
  user: User,
});

const Password = Type.String({ minLength: 1, maxLength: 256 });

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { platform } = fastify;
  const { accounts, sessions, throttle } = platform.auth;
  const ttl = platform.config.accessTokenTtlSec;
  const secured = { security: [{ bearer: [] }] };

  const issue = async (account: Account, opened: { sid: string; refreshToken: string; expiresAt: Date }) => {
    const user = {
      username: account.username,
      mspId: account.mspId,
      orgKind: account.orgKind,
      role: account.role,
      displayName: account.displayName,
    };
    const claims: AccessClaims = { ...user, sid: opened.sid };
    return {
      token: fastify.signAccessToken(claims),
      expiresIn: ttl,
      refreshToken: opened.refreshToken,
      sessionExpiresAt: opened.expiresAt.toISOString(),
      user,
    };
  };

  fastify.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Exchange a username and password for an access token and a refresh token. Limited per client IP; ' +
          'after repeated failures a username is locked for a growing time (429 with Retry-After, whatever the password)',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Password,
          },
          { additionalProperties: false },
        ),
        response: { 200: Tokens, ...errorResponses },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      await throttle.begin(username);
      const account = await accounts.verify(username, password);
      if (!account) {
        await throttle.failed(username);
        throw new CodedError(ErrorCodes.UNAUTHENTICATED, 'Unknown user or wrong password', 401);
      }
      await throttle.succeeded(username);
      return issue(account, await sessions.open(account.username));
    },
  );

  fastify.post(
    '/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new access token and refresh token (the old one is spent)',
        body: Type.Object(
          { refreshToken: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: Tokens, ...errorResponses },
      },
    },
    async (request) => {
      const opened = await sessions.rotate(request.body.refreshToken);
      const account = await accounts.get(opened.username);
      if (!account || account.disabled) {
        await sessions.revoke(opened.sid, RevokeReasons.disabled);
        throw new CodedError(ErrorCodes.UNAUTHENTICATED, 'The session has ended; sign in again', 401);
      }
      return issue(account, opened);
    },
  );

  fastify.post(
    '/auth/logout',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['auth'],
        summary: 'End this session: its access and refresh tokens stop working',
        ...secured,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await sessions.revoke(request.user.sid, RevokeReasons.logout);
      return reply.status(204).send(null);
    },
  );

  fastify.post(
    '/auth/password',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['auth'],
        summary: "Change one's own password; every session of the user ends (sign in again)",
        ...secured,
        body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { username } = request.user;
      // Guessing the current password through this route counts against the same lockout as logins.
      await throttle.begin(username);
      if (!(await accounts.verify(username, request.body.currentPassword))) {
        await throttle.failed(username);
        throw new CodedError(ErrorCodes.FORBIDDEN, 'The current password is wrong', 403);
      }
      await throttle.succeeded(username);
      await accounts.setPassword(username, request.body.newPassword);
      await sessions.revokeAll(username, RevokeReasons.passwordChanged);
      return reply.status(204).send(null);
    },
  );

  fastify.get(
    '/me',
    {
      onRequest: [fastify.authenticate],
      schema: { tags: ['auth'], ...secured, response: { 200: User, ...errorResponses } },
    },
    async (request) => request.user,
  );

  fastify.get(
    '/orgs',
    {
      onRequest: [fastify.authenticate],
      schema: {
        tags: ['auth'],
        ...secured,
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
