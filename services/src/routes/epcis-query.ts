import { CodedError, ErrorCodes } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  CBV_VERSION,
  createEpcisQuery,
  createPageTokens,
  DEFAULT_PER_PAGE,
  DOCUMENT_CONTEXT,
  EPCIS_VERSION,
  epcPathCondition,
  MAX_PER_PAGE,
  parseQuery,
  queryDocument,
  queryParameterError,
} from '../epcis/query.js';
import { canonicalUri } from '../epcis/query-uris.js';
import { ErrorResponse } from '../schemas.js';

/**
 * The EPCIS 2.0 REST binding's query side, rooted at /api/epcis: GET /events (SimpleEventQuery parameters in
 * the query string), /events/{eventID}, /epcs/{epc}/events, and the vocabulary collections. Every answer
 * carries GS1-EPCIS-Version and GS1-CBV-Version; a request asking for another version is refused with 406.
 */

/** An error as the platform answers it, plus the binding's RFC 7807 `type` and the offending `parameter`. */
const EpcisError = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  type: Type.Optional(Type.String()),
  parameter: Type.Optional(Type.String()),
});
const epcisErrors = {
  400: EpcisError,
  401: ErrorResponse,
  403: ErrorResponse,
  404: EpcisError,
  406: EpcisError,
  413: EpcisError,
  429: ErrorResponse,
  500: ErrorResponse,
  503: ErrorResponse,
} as const;

const Event = Type.Record(Type.String(), Type.Unknown());
const QueryDocument = Type.Object({
  '@context': Type.Unknown(),
  type: Type.Literal('EPCISQueryDocument'),
  schemaVersion: Type.String(),
  creationDate: Type.String(),
  epcisBody: Type.Object({
    queryResults: Type.Object({
      queryName: Type.String(),
      resultsBody: Type.Object({ eventList: Type.Array(Event) }),
    }),
  }),
});
const Collection = Type.Object({
  '@context': Type.Unknown(),
  type: Type.Literal('Collection'),
  member: Type.Array(Type.String()),
});

const QUERY_PARAMETERS =
  'SimpleEventQuery parameters in the query string (pipe-delimited lists): eventType, GE_/LT_eventTime, GE_/LT_recordTime, ' +
  'EQ_action, EQ_bizStep, EQ_disposition, EQ_persistentDisposition_set/_unset, EQ_readPoint, WD_readPoint, ' +
  'EQ_bizLocation, WD_bizLocation, EQ_transformationID, MATCH_epc, MATCH_parentID, MATCH_inputEPC, ' +
  'MATCH_outputEPC, MATCH_anyEPC, MATCH_epcClass, MATCH_inputEPCClass, MATCH_outputEPCClass, MATCH_anyEPCClass ' +
  '(EPC URN, Digital Link, urn:epc:idpat patterns, /01/{gtin} classes), EQ_eventID, EXISTS_errorDeclaration, ' +
  'EQ_errorReason, EQ_correctiveEventID, EQ_bizTransaction_{type}, EQ_source_{type}, EQ_destination_{type}, ' +
  'EQ_type, EXISTS_sensorElementList, {EQ,GT,GE,LT,LE}_{value,minValue,maxValue,meanValue,sDev,percValue}_{uom}, ' +
  'orderBy (eventTime, recordTime), orderDirection, eventCountLimit, maxEventCount, perPage (1-1000, default 30), ' +
  'nextPageToken. Any other parameter: 400 QUERY_PARAMETER_INVALID naming it.';

const SUPPORTED_EPC_FORMATS = ['No_Preference', 'Never_Translates', 'Always_GS1_Digital_Link'];

function notAcceptable(header: string, message: string): CodedError {
  return new CodedError(ErrorCodes.NOT_ACCEPTABLE, `${header}: ${message}`, 406, {
    epcis: { exception: 'NotAcceptableException', parameter: header },
  });
}

const versionParts = (v: string) => v.split('.').map(Number);
function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Honours the binding's version headers: GS1-EPCIS-Version / GS1-CBV-Version must name 2.0 (2, 2.0 or 2.0.0),
 * GS1-*-Min at most and GS1-*-Max at least it; GS1-EPC-Format may ask for Digital Link or no translation.
 */
function checkVersions(request: FastifyRequest): void {
  const header = (name: string) => {
    const v = request.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(',') : v;
  };
  for (const [prefix, ours] of [
    ['GS1-EPCIS', EPCIS_VERSION],
    ['GS1-CBV', CBV_VERSION],
  ] as const) {
    for (const suffix of ['Version', 'Min', 'Max'] as const) {
      const name = `${prefix}-${suffix}`;
      const value = header(name);
      if (value === undefined) continue;
      if (!/^\d+(\.\d+){0,2}$/.test(value)) throw notAcceptable(name, `not a version (${ours})`);
      const c = compareVersions(value, ours);
      if ((suffix === 'Version' && c !== 0) || (suffix === 'Min' && c > 0) || (suffix === 'Max' && c < 0)) {
        throw notAcceptable(name, `this repository speaks ${prefix.slice(4)} ${ours} only`);
      }
    }
  }
  const format = header('GS1-EPC-Format');
  if (format !== undefined && !SUPPORTED_EPC_FORMATS.includes(format)) {
    throw notAcceptable('GS1-EPC-Format', `one of ${SUPPORTED_EPC_FORMATS.join(', ')}`);
  }
}

/**
 * EPCs in GS1 Digital Link form unless the client asked for them untranslated (GS1-EPC-Format: the binding's
 * default is Always_GS1_Digital_Link). Only identifiers are rewritten; everything else is answered as stored.
 */
function translateEpcs(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event };
  const uri = (v: unknown) => (typeof v === 'string' ? canonicalUri(v) : v);
  for (const f of ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList']) {
    if (Array.isArray(out[f])) out[f] = (out[f] as unknown[]).map(uri);
  }
  if (typeof out.parentID === 'string') out.parentID = canonicalUri(out.parentID);
  for (const f of ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']) {
    if (Array.isArray(out[f])) {
      out[f] = (out[f] as unknown[]).map((q) =>
        q && typeof q === 'object' ? { ...q, epcClass: uri((q as { epcClass?: unknown }).epcClass) } : q,
      );
    }
  }
  for (const f of ['readPoint', 'bizLocation']) {
    const v = out[f] as { id?: unknown } | undefined;
    if (v && typeof v === 'object' && typeof v.id === 'string') out[f] = { ...v, id: canonicalUri(v.id) };
  }
  return out;
}

const queryString = (request: FastifyRequest) => {
  const i = request.url.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : request.url.slice(i + 1));
};

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { pool, identity } = fastify.platform;
  const tokens = createPageTokens(Buffer.from(identity.apiTokenSecret()));
  const query = createEpcisQuery({ pool, tokens });
  const secured = { security: [{ bearer: [] }] };
  const tags = ['EPCIS'];

  fastify.addHook('onRequest', fastify.authenticate);
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('GS1-EPCIS-Version', EPCIS_VERSION).header('GS1-CBV-Version', CBV_VERSION);
    checkVersions(request);
  });

  const translate = (request: FastifyRequest) => {
    const f = request.headers['gs1-epc-format'];
    return f === undefined || f === 'Always_GS1_Digital_Link';
  };

  /** Answers a page: the document, and a Link to the next page carrying the same parameters and its token. */
  async function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    scope: string,
    extra: ReturnType<typeof epcPathCondition>[] = [],
  ) {
    const params = queryString(request);
    const parsed = parseQuery(params);
    const page = await query.events(request.user, parsed, { scope, extra });
    if (page.nextPageToken) {
      params.set('nextPageToken', page.nextPageToken);
      const path = request.url.split('?')[0];
      reply.header('Link', `<${path}?${params.toString()}>; rel="next"`);
      reply.header('GS1-Next-Page-Token-Expires', new Date(Date.now() + tokens.ttlSec * 1000).toISOString());
    }
    const events = translate(request) ? page.events.map(translateEpcs) : page.events;
    return queryDocument(events);
  }

  fastify.get(
    '/epcis/events',
    {
      schema: {
        tags,
        summary: 'EPCIS 2.0 events the caller may see, filtered by the standard query parameters',
        description: QUERY_PARAMETERS,
        ...secured,
        response: { 200: QueryDocument, ...epcisErrors },
      },
    },
    async (request, reply) => answer(request, reply, 'events'),
  );

  fastify.get(
    '/epcis/events/:eventID',
    {
      schema: {
        tags,
        summary: 'One EPCIS event and its error declaration, if any (404 when none the caller may see)',
        ...secured,
        params: Type.Object({ eventID: Type.String({ minLength: 1, maxLength: 2048 }) }),
        response: { 200: QueryDocument, ...epcisErrors },
      },
    },
    async (request) => {
      if ([...queryString(request).keys()].length > 0) {
        throw queryParameterError([...queryString(request).keys()][0] as string, 'no query parameters here');
      }
      const events = await query.eventById(request.user, request.params.eventID);
      // 404 whether it does not exist or belongs to what the caller may not see: ids of others are not confirmed.
      if (!events) throw new CodedError(ErrorCodes.NOT_FOUND, `no event ${request.params.eventID}`, 404);
      return queryDocument(translate(request) ? events.map(translateEpcs) : events);
    },
  );

  fastify.get(
    '/epcis/epcs/:epc/events',
    {
      schema: {
        tags,
        summary:
          'EPCIS events naming an EPC, EPC class or pattern (URL-encoded URN or Digital Link) in any role, with the query parameters of /events',
        description: QUERY_PARAMETERS,
        ...secured,
        params: Type.Object({ epc: Type.String({ minLength: 1, maxLength: 2048 }) }),
        response: { 200: QueryDocument, ...epcisErrors },
      },
    },
    async (request, reply) => {
      const epc = request.params.epc;
      return answer(request, reply, `epcs ${epc}`, [epcPathCondition(epc)]);
    },
  );

  const vocabularies = [
    ['eventTypes', 'Event types of the events the caller may see'],
    ['bizSteps', 'Business steps of the events the caller may see (CBV values as bare names)'],
    ['dispositions', 'Dispositions of the events the caller may see (CBV values as bare names)'],
    ['bizLocations', 'Business locations of the events the caller may see (canonical Digital Link)'],
    ['readPoints', 'Read points of the events the caller may see (canonical Digital Link)'],
  ] as const;
  for (const [kind, summary] of vocabularies) {
    fastify.get(
      `/epcis/${kind}`,
      {
        schema: {
          tags,
          summary,
          description: `Paged with perPage (1-${MAX_PER_PAGE}, default ${DEFAULT_PER_PAGE}) and nextPageToken; a Link header names the next page.`,
          ...secured,
          response: { 200: Collection, ...epcisErrors },
        },
      },
      async (request, reply) => {
        const params = queryString(request);
        let perPage = DEFAULT_PER_PAGE;
        let nextPageToken: string | undefined;
        const seen = new Set<string>();
        for (const [name, value] of params) {
          if (seen.has(name)) throw queryParameterError(name, 'given more than once');
          seen.add(name);
          if (name === 'perPage') {
            if (!/^[0-9]{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_PER_PAGE) {
              throw queryParameterError(name, `a positive integer up to ${MAX_PER_PAGE}`);
            }
            perPage = Number(value);
          } else if (name === 'nextPageToken') {
            if (value.length === 0 || value.length > 2048) throw queryParameterError(name, 'not a page token');
            nextPageToken = value;
          } else throw queryParameterError(name, 'not a parameter of this collection (perPage, nextPageToken)');
        }
        const page = await query.vocabulary(request.user, kind, {
          perPage,
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        if (page.nextPageToken) {
          params.set('nextPageToken', page.nextPageToken);
          reply.header('Link', `<${request.url.split('?')[0]}?${params.toString()}>; rel="next"`);
        }
        return { '@context': DOCUMENT_CONTEXT, type: 'Collection' as const, member: page.members };
      },
    );
  }
};

export default routes;
