import { CodedError, ErrorCodes, type OrgKind, type Role } from '@c2m/shared';
import jwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Who is calling: one user of one org, with one role. Set only from a verified token. */
export interface AuthUser {
  readonly username: string;
  readonly mspId: string;
  readonly orgKind: OrgKind;
  readonly role: Role;
  readonly displayName: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AuthUser;
    user: AuthUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: rejects requests without a valid bearer token. */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** preHandler factory: only users of these org kinds (and, if given, roles). */
    allow(kinds: readonly OrgKind[], roles?: readonly Role[]): (request: FastifyRequest) => Promise<void>;
  }
}

export interface AuthOptions {
  readonly secret: Buffer;
  readonly tokenTtl?: string;
}

export default fp<AuthOptions>(
  async (fastify: FastifyInstance, opts) => {
    await fastify.register(jwt, { secret: opts.secret, sign: { expiresIn: opts.tokenTtl ?? '12h' } });

    fastify.decorate('authenticate', async (request: FastifyRequest) => {
      try {
        await request.jwtVerify();
      } catch {
        throw new CodedError(ErrorCodes.UNAUTHENTICATED, 'A valid bearer token is required', 401);
      }
    });

    fastify.decorate(
      'allow',
      (kinds: readonly OrgKind[], roles?: readonly Role[]) => async (request: FastifyRequest) => {
        const user = request.user;
        if (!kinds.includes(user.orgKind) || (roles && !roles.includes(user.role))) {
          throw new CodedError(
            ErrorCodes.FORBIDDEN,
            `${user.username} (${user.mspId}, ${user.role}) may not do this`,
            403,
          );
        }
      },
    );
  },
  { name: 'auth' },
);
