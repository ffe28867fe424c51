import { CodedError, ErrorCodes, type OrgKind, type Role } from '@c2m/shared';
import jwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Sessions } from '../auth/sessions.js';

/** Who is calling: one user of one org, with one role. Set only from a verified token of a live session. */
export interface AuthUser {
  readonly username: string;
  readonly mspId: string;
  readonly orgKind: OrgKind;
  readonly role: Role;
  readonly displayName: string;
}

/** What an access token carries: the user, and the session it belongs to (checked on every request). */
export interface AccessClaims extends AuthUser {
  readonly sid: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: rejects requests without a valid bearer token of a live session of an enabled user. */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** Hook factory: only users of these org kinds (and, if given, roles). */
    allow(kinds: readonly OrgKind[], roles?: readonly Role[]): (request: FastifyRequest) => Promise<void>;
    /** Signs an access token for a session (exp from `accessTokenTtlSec`). */
    signAccessToken(claims: AccessClaims): string;
  }
}

export interface AuthOptions {
  readonly secret: Buffer;
  readonly sessions: Sessions;
  /** Access token lifetime, seconds. */
  readonly accessTokenTtlSec: number;
}

/** Marks the hooks `allow` makes, so the onRoute hook below can find them. */
const ALLOW_HOOK = Symbol('c2m.allow');

export default fp<AuthOptions>(
  async (fastify: FastifyInstance, opts) => {
    await fastify.register(jwt, {
      secret: opts.secret,
      // A number is seconds here (@fastify/jwt), not fast-jwt's milliseconds; the sessions test checks exp - iat.
      sign: { expiresIn: opts.accessTokenTtlSec, algorithm: 'HS256' },
      // A token without exp, or without a session, is refused even when its signature is good: it could never
      // be revoked.
      verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sid', 'username'] },
    });

    fastify.decorate('signAccessToken', (claims: AccessClaims) => fastify.jwt.sign({ ...claims }));

    fastify.decorate('authenticate', async (request: FastifyRequest) => {
      try {
        await request.jwtVerify();
      } catch {
        throw new CodedError(ErrorCodes.UNAUTHENTICATED, 'A valid bearer token is required', 401);
      }
      const { sid, username } = request.user;
      // Logout, a password change or reset, and disabling the user all end the session; so does its expiry.
      if (typeof sid !== 'string' || typeof username !== 'string' || !(await opts.sessions.isLive(sid, username))) {
        throw new CodedError(ErrorCodes.UNAUTHENTICATED, 'The session has ended; sign in again', 401);
      }
    });

    fastify.decorate('allow', (kinds: readonly OrgKind[], roles?: readonly Role[]) => {
      const hook = async (request: FastifyRequest) => {
        const user = request.user;
        if (!kinds.includes(user.orgKind) || (roles && !roles.includes(user.role))) {
          throw new CodedError(
            ErrorCodes.FORBIDDEN,
            `${user.username} (${user.mspId}, ${user.role}) may not do this`,
            403,
          );
        }
      };
      return Object.assign(hook, { [ALLOW_HOOK]: true });
    });

    // Routes declare `preHandler: fastify.allow(...)`; preHandler runs after the body is parsed and validated,
    // so a caller without the right would learn the body's schema (400) before being refused, and would make
    // the server parse a body it will throw away. Moved to onRequest (after authenticate), the refusal comes
    // first, whatever the body.
    fastify.addHook('onRoute', (route) => {
      const pre = route.preHandler;
      const list = pre === undefined ? [] : Array.isArray(pre) ? pre : [pre];
      const gates = list.filter((h) => (h as unknown as Record<symbol, unknown>)[ALLOW_HOOK] === true);
      if (gates.length === 0) return;
      route.preHandler = list.filter((h) => !gates.includes(h));
      const on = route.onRequest;
      const onList: onRequestHookHandler[] = on === undefined ? [] : Array.isArray(on) ? [...on] : [on];
      route.onRequest = [...onList, ...(gates as unknown as onRequestHookHandler[])];
    });
  },
  { name: 'auth' },
);
