import { CodedError, ErrorCodes, OrgKinds, Roles } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { RevokeReasons } from '../auth/sessions.js';
import { errorResponses } from '../schemas.js';

const Account = Type.Object({
  username: Type.String(),
  mspId: Type.String(),
  orgKind: Type.Enum(OrgKinds),
  role: Type.String(),
  displayName: Type.String(),
  disabled: Type.Boolean(),
  createdBy: Type.String(),
  createdAt: Type.String(),
});

const UsernameParam = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
});
const NewPassword = Type.String({ minLength: 1, maxLength: 256 });

/**
 * User administration. Administrators only: the platform org's admins for every org, each org's admins for
 * their own org. Creating a user also enrols its ledger identity (certificate from the org's CA).
 */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { accounts, sessions } = fastify.platform.auth;
  const secured = { security: [{ bearer: [] }] };
  fastify.addHook('onRequest', fastify.authenticate);
  const adminsOnly = fastify.allow(Object.values(OrgKinds), [Roles.admin]);

  /** Platform admins manage every org; an org's admin only its own. */
  const assertManages = (request: FastifyRequest, mspId: string) => {
    const user = request.user;
    if (user.orgKind === OrgKinds.platform || user.mspId === mspId) return;
    throw new CodedError(ErrorCodes.FORBIDDEN, `${user.username} may not manage users of ${mspId}`, 403);
  };
  /** The target account, if the caller may manage it; users of other orgs look like missing ones. */
  const managedAccount = async (request: FastifyRequest, username: string) => {
    const account = await accounts.get(username);
    const user = request.user;
    if (!account || (user.orgKind !== OrgKinds.platform && account.mspId !== user.mspId)) {
      throw new CodedError(ErrorCodes.NOT_FOUND, `no user ${username}`, 404);
    }
    return account;
  };

  fastify.get(
    '/users',
    {
      preHandler: adminsOnly,
      schema: {
        tags: ['users'],
        summary: "Login accounts: all of them for platform admins, else the caller's org's",
        ...secured,
        querystring: Type.Object(
          { mspId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Account) }), ...errorResponses },
      },
    },
    async (request) => {
      const user = request.user;
      const mspId = user.orgKind === OrgKinds.platform ? request.query.mspId : user.mspId;
      if (request.query.mspId) assertManages(request, request.query.mspId);
      return { items: await accounts.list(mspId) };
    },
  );

  fastify.post(
    '/users',
    {
      preHandler: adminsOnly,
      schema: {
        tags: ['users'],
        summary: 'Create a user of an org (and enrol its ledger identity)',
        ...secured,
        body: Type.Object(
          {
            username: UsernameParam.properties.username,
            mspId: Type.String({ minLength: 1, maxLength: 128 }),
            role: Type.Enum([Roles.admin, Roles.brandManager, Roles.factoryManager, Roles.certifier, Roles.financier]),
            displayName: Type.String({ minLength: 1, maxLength: 128 }),
            password: NewPassword,
          },
          { additionalProperties: false },
        ),
        response: { 201: Account, ...errorResponses },
      },
    },
    async (request, reply) => {
      assertManages(request, request.body.mspId);
      if (/^peer\d+$/.test(request.body.username)) {
        throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'peer names are reserved for peer identities');
      }
      const account = await accounts.create(request.body, request.user.username);
      return reply.status(201).send(account);
    },
  );

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    fastify.post(
      `/users/:username/${action}`,
      {
        preHandler: adminsOnly,
        schema: {
          tags: ['users'],
          summary: disabled
            ? 'Disable a user: it cannot sign in, and its sessions end at once'
            : 'Enable a disabled user (it signs in again with its password)',
          ...secured,
          params: UsernameParam,
          response: { 200: Account, ...errorResponses },
        },
      },
      async (request) => {
        await managedAccount(request, request.params.username);
        if (disabled && request.params.username === request.user.username) {
          throw new CodedError(ErrorCodes.INVALID_STATE, 'administrators cannot disable themselves', 409);
        }
        const account = await accounts.setDisabled(request.params.username, disabled);
        if (disabled) await sessions.revokeAll(account.username, RevokeReasons.disabled);
        return account;
      },
    );
  }

  fastify.post(
    '/users/:username/reset-password',
    {
      preHandler: adminsOnly,
      schema: {
        tags: ['users'],
        summary: "Set a user's password (rotation after a leak, a forgotten password); its sessions end",
        ...secured,
        params: UsernameParam,
        body: Type.Object({ password: NewPassword }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const account = await managedAccount(request, request.params.username);
      await accounts.setPassword(account.username, request.body.password);
      await sessions.revokeAll(account.username, RevokeReasons.passwordReset);
      return reply.status(204).send(null);
    },
  );
};

export default routes;
