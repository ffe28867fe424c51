import { CodedError, ErrorCodes } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { Type } from 'typebox';
import { parseTraceKey, type TraceKey } from '../epcis/trace-key.js';
import { errorResponses } from '../schemas.js';

/**
 * GS1 Digital Link resolver (GS1-Conformant Resolver Standard): `/01/{gtin}/21/{serial}`, `/01/{gtin}/10/{lot}`,
 * `/00/{sscc}` and `/01/{gtin}` on the platform's own host. `Accept: application/linkset+json` (or
 * `?linkType=all`) gets the linkset (RFC 9264) of what the key links to, by GS1 link type; `?linkType=gs1:x`
 * redirects to that link; anything else (a browser, a phone's camera app) is redirected (307) to the default
 * link, the consumer page. A key with a wrong check digit is 400; a GTIN nobody registered is 404. Public.
 *
 * QR codes (PNG, SVG) of those URIs for labels: `/api/qr/01/{gtin}/21/{serial}.svg` (qrcode, MIT).
 */
const LINKSET = 'application/linkset+json';
const VOC = 'https://gs1.org/voc/';

function dlPath(k: TraceKey): string {
  return k.uri.replace('https://id.gs1.org', '');
}

function origin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The links a key resolves to, by GS1 link type. */
function links(k: TraceKey, base: string) {
  const path = dlPath(k);
  const out: Record<string, { href: string; title: string; type: string; hreflang?: string[] }[]> = {};
  const add = (type: string, href: string, title: string, mime: string, lang = false) => {
    out[`${VOC}${type}`] = [{ href, title, type: mime, ...(lang ? { hreflang: ['en', 'zh'] } : {}) }];
  };
  if (k.kind === 'serial') {
    add('pip', `${base}/consumer${path}`, 'Product information page', 'text/html', true);
    add(
      'traceability',
      `${base}/api/public/products${path}`,
      'Where it was made, inspected and shipped',
      'application/json',
    );
    add(
      'certificationInfo',
      `${base}/api/public/products${path}/proof`,
      'Redacted proof of its ledger-anchored events',
      'application/json',
    );
    add(
      'recallStatus',
      `${base}/api/public/products${path}#recalls`,
      'Open recalls, read from the ledger',
      'application/json',
    );
    out[`${VOC}defaultLink`] = out[`${VOC}pip`] as never;
  } else if (k.kind === 'lot' || k.kind === 'product') {
    add('pip', `${base}/consumer${path}`, 'Product information page', 'text/html', true);
    add('traceability', `${base}/api/trace${path}`, 'Trace graph (consortium members)', 'application/json');
    out[`${VOC}defaultLink`] = out[`${VOC}pip`] as never;
  } else {
    add(
      'traceability',
      `${base}/api/trace${path}`,
      'Trace graph of the logistic unit (consortium members)',
      'application/json',
    );
    out[`${VOC}defaultLink`] = out[`${VOC}traceability`] as never;
  }
  return out;
}

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { pool } = fastify.platform;

  async function resolve(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split('?')[0] as string;
    const k = parseTraceKey(path);
    if (k.kind !== 'serial' && k.kind !== 'lot' && k.kind !== 'product' && k.kind !== 'sscc') {
      throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'not a key this resolver serves', 400);
    }
    if (k.gtin) {
      const { rows } = await pool.query('SELECT 1 FROM gs1_products WHERE gtin = $1', [k.gtin]);
      if (rows.length === 0) throw new CodedError(ErrorCodes.NOT_FOUND, `GTIN ${k.gtin} is not registered here`, 404);
    }
    const base = origin(request);
    const set = links(k, base);
    const anchor = `${base}${dlPath(k)}`;
    reply.header('link', `<${anchor}?linkType=all>; rel="linkset"; type="${LINKSET}"`);
    reply.header('vary', 'Accept');
    const linkType = (request.query as { linkType?: string }).linkType;
    const accept = request.headers.accept ?? '';
    if (
      linkType === 'all' ||
      accept.includes(LINKSET) ||
      (accept.includes('application/json') && !accept.includes('text/html'))
    ) {
      return reply.type(accept.includes(LINKSET) || linkType === 'all' ? LINKSET : 'application/json').send({
        linkset: [{ anchor, ...set }],
      });
    }
    if (linkType) {
      const wanted = linkType.replace(/^gs1:/, VOC);
      const target = set[wanted]?.[0];
      if (!target) throw new CodedError(ErrorCodes.NOT_FOUND, `no ${linkType} link for ${dlPath(k)}`, 404);
      return reply.redirect(target.href, 307);
    }
    return reply.redirect((set[`${VOC}defaultLink`]?.[0]?.href ?? anchor) as string, 307);
  }

  const querystring = Type.Object({ linkType: Type.Optional(Type.String({ maxLength: 100 })) });
  const schema = (summary: string, params: Record<string, ReturnType<typeof Type.String>>) => ({
    tags: ['resolver'],
    summary,
    params: Type.Object(params),
    querystring,
    response: { ...errorResponses },
  });
  const seg = Type.String({ minLength: 1, maxLength: 40 });
  fastify.get(
    '/01/:gtin/21/:serial',
    { schema: schema('Resolve a serialised product (SGTIN)', { gtin: seg, serial: seg }) },
    resolve,
  );
  fastify.get('/01/:gtin/10/:lot', { schema: schema('Resolve a lot (LGTIN)', { gtin: seg, lot: seg }) }, resolve);
  fastify.get('/01/:gtin', { schema: schema('Resolve a product (GTIN)', { gtin: seg }) }, resolve);
  fastify.get('/00/:sscc', { schema: schema('Resolve a logistic unit (SSCC)', { sscc: seg }) }, resolve);
};

/** QR codes of resolver URIs, and the public product endpoints the consumer page reads: under /api. */
export const publicRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { consumer } = fastify.platform;

  fastify.get(
    '/qr/*',
    {
      schema: {
        tags: ['resolver'],
        summary:
          'QR code (PNG or SVG) of the resolver URI of a serial, lot, product or SSCC: /api/qr/01/{gtin}/21/{serial}.svg',
        params: Type.Object({ '*': Type.String({ minLength: 1, maxLength: 200 }) }),
        querystring: Type.Object(
          { size: Type.Optional(Type.Integer({ minimum: 64, maximum: 1024 })) },
          { additionalProperties: false },
        ),
        response: { ...errorResponses },
      },
    },
    async (request, reply) => {
      const m = /^(.+)\.(png|svg)$/.exec(request.params['*']);
      if (!m) throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'end the path in .png or .svg', 400);
      const k = parseTraceKey(`/${m[1]}`);
      if (!['serial', 'lot', 'product', 'sscc'].includes(k.kind)) {
        throw new CodedError(ErrorCodes.VALIDATION_FAILED, 'a QR code is for a serial, lot, product or SSCC', 400);
      }
      const uri = `${origin(request)}${dlPath(k)}`;
      const width = request.query.size ?? 256;
      reply.header('cache-control', 'public, max-age=86400');
      if (m[2] === 'svg') {
        return reply
          .type('image/svg+xml')
          .send((await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', width, margin: 2 })) as never);
      }
      return reply
        .type('image/png')
        .send((await QRCode.toBuffer(uri, { type: 'png', errorCorrectionLevel: 'M', width, margin: 2 })) as never);
    },
  );

  const serialParams = Type.Object({
    gtin: Type.String({ pattern: '^[0-9]{14}$' }),
    serial: Type.String({ minLength: 1, maxLength: 20 }),
  });
  fastify.get(
    '/public/products/01/:gtin/21/:serial',
    {
      schema: {
        tags: ['resolver'],
        summary:
          'Public product page data for one serial: product, brand, factory, certified devices, QC, shipping, open recalls (from the ledger)',
        params: serialParams,
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses },
      },
    },
    async (request) => consumer.product(request.params.gtin, request.params.serial),
  );
  fastify.get(
    '/public/products/01/:gtin/21/:serial/proof',
    {
      schema: {
        tags: ['resolver'],
        summary:
          'Redacted proof of the events behind the product page: disclosed fields, salted commitments for hidden ones, Merkle leaves and anchors',
        params: serialParams,
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses },
      },
    },
    async (request) => consumer.redactedBundle(request.params.gtin, request.params.serial),
  );
};

export default routes;
