// Types of the services' OpenAPI document (openapi.gen.ts, generated) and the compile-time checks that hold the
// portals' wire types (types.ts, demand.ts, dispatch.ts) to it; the checks themselves are in openapi-conformance.ts.
import type { paths } from './openapi.gen';

export type ApiPath = keyof paths;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The methods a path has: `paths` lists the others as `?: never`. */
export type ApiMethod<P extends ApiPath> = {
  [M in Method]-?: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[Method];
type Operation<P extends ApiPath, M extends ApiMethod<P>> = NonNullable<paths[P][M]>;
type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/** The JSON body the API sends for `status` (200 unless given). */
export type ApiResponse<
  P extends ApiPath,
  M extends ApiMethod<P>,
  S extends keyof Operation<P, M>['responses'] = 200 & keyof Operation<P, M>['responses'],
> = Json<Operation<P, M>['responses'][S]>;

/** The JSON body the API accepts. */
export type ApiRequestBody<P extends ApiPath, M extends ApiMethod<P>> = Json<
  NonNullable<Operation<P, M>['requestBody']>
>;

/** A query parameter's type. */
export type ApiQuery<P extends ApiPath, M extends ApiMethod<P>> = NonNullable<Operation<P, M>['parameters']['query']>;

/** Compiles only when `T` is `true`; otherwise the error shows what `T` says is wrong. */
export type Assert<T extends true> = T;

/**
 * The portal reads the API's `Api` as its own `Portal`: `true`, or what is wrong. Every member the portal names,
 * at any depth, must exist in the API's type (`notInApi` lists the paths that do not), and the API's type must be
 * assignable to the portal's (`wrongType` lists the paths where it is not, e.g. `string` where the portal says
 * `number`, a `null` the portal does not expect, a member the portal requires that the API may leave out).
 */
export type Reads<Portal, Api> = Verdict<Api, ExtraFields<Portal, Api, ''>, WrongFields<Api, Portal, ''>>;

/** The portal sends its `Portal` where the API accepts `Api`: no member the API would reject, and types it accepts. */
export type Sends<Portal, Api> = Verdict<Api, ExtraFields<Portal, Api, ''>, WrongFields<Portal, Api, ''>>;

type IsAny<T> = 0 extends 1 & T ? true : false;
type Verdict<Api, Extra, Wrong> =
  IsAny<Api> extends true
    ? { apiTypeIs: 'any' }
    : [Api] extends [never]
      ? { apiTypeIs: 'never' }
      : [Extra] extends [never]
        ? [Wrong] extends [never]
          ? true
          : { wrongType: Wrong }
        : { notInApi: Extra };

type Join<Path extends string, K> = Path extends '' ? `${K & (string | number)}` : `${Path}.${K & (string | number)}`;
type At<Path extends string> = Path extends '' ? '(the whole body)' : Path;
type Shape<T> = Extract<T, object>;
type Element<T> = Extract<T, readonly unknown[]>[number];
type IsIndexKey<K> = string extends K ? true : number extends K ? true : false;

/** Paths of the members `P` names that `A` does not have. Index signatures name no member; their values are checked. */
type ExtraFields<P, A, Path extends string> = P extends readonly (infer E)[]
  ? ExtraFields<E, Element<A>, `${Path}[]`>
  : P extends object
    ? { [K in keyof P]-?: ExtraField<P, A, K, Path> }[keyof P]
    : never;
type ExtraField<P, A, K extends keyof P, Path extends string> =
  IsIndexKey<K> extends true
    ? string extends keyof Shape<A>
      ? ExtraFields<P[K], Shape<A>[string & keyof Shape<A>], Join<Path, '*'>>
      : never
    : K extends keyof Shape<A>
      ? ExtraFields<P[K], Shape<A>[K], Join<Path, K>>
      : Join<Path, K>;

/**
 * Paths at which `From` does not fit `To`. Objects are compared member by member, so a member the portal types
 * more narrowly than the API's index signature (`unknown` values) is caught too, which plain assignability lets by.
 */
type WrongFields<From, To, Path extends string> = [From] extends [never]
  ? never
  : IsUnknown<To> extends true
    ? never
    : [From] extends [readonly (infer F)[]]
      ? [To] extends [readonly (infer T)[]]
        ? WrongValue<F, T, `${Path}[]`>
        : At<Path>
      : [From] extends [object]
        ? [To] extends [readonly unknown[]]
          ? At<Path>
          : [To] extends [object]
            ? OrFits<{ [K in keyof To]-?: WrongMember<From, To, K, Path> }[keyof To], From, To, Path>
            : Fits<From, To, Path>
        : Fits<From, To, Path>;
type WrongMember<From, To, K extends keyof To, Path extends string> =
  IsIndexKey<K> extends true
    ? WrongValue<From[keyof From], To[K], Join<Path, '*'>>
    : K extends keyof From
      ? WrongValue<From[K], To[K], Join<Path, K>>
      : undefined extends To[K]
        ? never
        : `${Join<Path, K>} (missing)`;
/** A member's value: `null` and absence first, then the rest. */
type WrongValue<From, To, Path extends string> =
  IsUnknown<To> extends true
    ? never
    : IsUnknown<From> extends true
      ? At<Path>
      : (null extends From ? (null extends To ? false : true) : false) extends true
        ? `${At<Path>} (may be null)`
        : (undefined extends From ? (undefined extends To ? false : true) : false) extends true
          ? `${At<Path>} (may be absent)`
          : WrongFields<NonNullable<From>, NonNullable<To>, Path>;
type Fits<From, To, Path extends string> = [From] extends [To] ? never : At<Path>;
type OrFits<Found, From, To, Path extends string> = [Found] extends [never] ? Fits<From, To, Path> : Found;
type IsUnknown<T> = unknown extends T ? true : false;
