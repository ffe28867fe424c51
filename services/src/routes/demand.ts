import { CodedError, ErrorCodes } from '@c2m/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { SignalKinds, SignalRejection } from '../demand/demand-service.js';
import { Levels, RunStatuses } from '../demand/forecast-runs.js';
import { DEFAULT_HORIZON, Frequencies, MAX_HORIZON } from '../demand/frequency.js';
import { OrderStatuses } from '../orders/orders-service.js';
import { errorResponses, IdParam } from '../schemas.js';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Name = (max: number) => Type.String({ minLength: 1, maxLength: max });
const Key = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });

const Signal = Type.Object(
  {
    id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'client id; re-sending it is a no-op' }),
    ),
    sku: Key,
    kind: Type.Union(SignalKinds.map((k) => Type.Literal(k))),
    quantity: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    date: Day,
    channel: Type.Optional(Name(64)),
    region: Type.Optional(Name(64)),
  },
  { additionalProperties: false },
);

const Product = Type.Object(
  {
    id: Key,
    name: Name(200),
    category: Type.Object({ id: Key, name: Type.Optional(Name(200)) }, { additionalProperties: false }),
    skus: Type.Array(
      Type.Object(
        {
          sku: Key,
          colour: Type.Optional(Name(64)),
          size: Type.Optional(Name(32)),
          material: Type.Optional(Name(100)),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);

const ProductOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  category: Type.Object({ id: Type.String(), name: Type.String() }),
  skus: Type.Array(
    Type.Object({
      sku: Type.String(),
      colour: Type.Union([Type.String(), Type.Null()]),
      size: Type.Union([Type.String(), Type.Null()]),
      material: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

const IngestResult = Type.Object({ received: Type.Integer(), accepted: Type.Integer(), duplicates: Type.Integer() });
const RowError = Type.Object({ row: Type.Integer(), field: Type.Optional(Type.String()), message: Type.String() });
// A 400 from schema validation has no row list; one from the signals check has one.
const Rejection = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(RowError)),
});

const Scores = Type.Object({
  mase: Type.Number(),
  smape: Type.Number(),
  coverage80: Type.Number(),
  coverage95: Type.Number(),
  points: Type.Integer(),
});
const OverallScores = Type.Object({
  mase: Type.Number(),
  smape: Type.Number(),
  coverage80: Type.Number(),
  coverage95: Type.Number(),
  seasonalNaiveMase: Type.Union([Type.Number(), Type.Null()]),
  scoredSeries: Type.Integer(),
  models: Type.Record(Type.String(), Type.Integer()),
  reconciliation: Type.String(),
});
const FrequencySchema = Type.Enum(Frequencies, {
  description: 'planning frequency: signals are summed to ISO weeks, calendar months or quarters',
});
const Run = Type.Object({
  id: Type.String(),
  brandMspId: Type.String(),
  status: Type.Enum(RunStatuses),
  trigger: Type.String(),
  frequency: FrequencySchema,
  horizon: Type.Integer({ description: 'periods of the frequency forecast' }),
  horizonDays: Type.Integer({ description: 'days the forecast covers' }),
  historyFrom: Type.Union([Type.String(), Type.Null()]),
  historyTo: Type.Union([Type.String(), Type.Null()]),
  seriesTotal: Type.Integer(),
  seriesDone: Type.Integer(),
  percent: Type.Integer(),
  scores: Type.Union([OverallScores, Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});
const RunDetail = Type.Intersect([
  Run,
  Type.Object({
    series: Type.Array(
      Type.Object({
        level: Type.Enum(Levels),
        key: Type.String(),
        model: Type.String(),
        scores: Type.Union([Scores, Type.Null()]),
      }),
    ),
  }),
]);
const Selection = Type.Object({
  method: Type.String({ description: 'backtest, or information_criterion for a series too short to backtest' }),
  origins: Type.Integer(),
  backtestHorizon: Type.Integer(),
  periods: Type.Array(Type.Integer(), { description: 'season lengths used, in periods' }),
  combined: Type.Array(Type.String(), { description: 'the models whose median is the combination' }),
  intervalScale: Type.Object({
    k80: Type.Number(),
    k95: Type.Number(),
    method: Type.String({ description: 'conformal, or fallback with too few backtest points' }),
    points: Type.Integer(),
  }),
});
const SeriesForecast = Type.Object({
  level: Type.Enum(Levels),
  key: Type.String(),
  model: Type.String(),
  frequency: FrequencySchema,
  selection: Type.Union([Selection, Type.Null()]),
  scores: Type.Union([Scores, Type.Null()]),
  candidates: Type.Array(Type.Object({ model: Type.String(), scores: Scores })),
  history: Type.Array(Type.Object({ date: Type.String(), quantity: Type.Number() })),
  forecast: Type.Array(
    Type.Object({
      date: Type.String(),
      point: Type.Number(),
      lo80: Type.Number(),
      hi80: Type.Number(),
      lo95: Type.Number(),
      hi95: Type.Number(),
    }),
  ),
});
const Order = Type.Object({
  id: Type.String(),
  brandMspId: Type.String(),
  product: Type.String(),
  lines: Type.Array(
    Type.Object({
      sku: Type.String(),
      colour: Type.Optional(Type.String()),
      size: Type.Optional(Type.String()),
      quantity: Type.Integer(),
    }),
  ),
  spec: Type.Record(Type.String(), Type.Unknown()),
  totalQuantity: Type.Integer(),
  status: Type.Enum(OrderStatuses),
  dueDate: Type.String(),
  createdAt: Type.String(),
});

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { demand, forecastRuns } = fastify.platform;
  fastify.addHook('onRequest', fastify.authenticate);
  const secured = { security: [{ bearer: [] }] };
  const brandOnly = fastify.allow(['brand']);

  // CSV uploads arrive as text; csv-parse does the parsing in the service.
  fastify.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 20 * 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  fastify.put(
    '/demand/products',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: 'Create or update products with their category and SKUs (variants)',
        ...secured,
        body: Type.Object(
          { products: Type.Array(Product, { minItems: 1, maxItems: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(ProductOut) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await demand.upsertProducts(request.user, request.body.products) }),
  );

  fastify.get(
    '/demand/products',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(ProductOut) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await demand.listProducts(request.user) }),
  );

  fastify.post(
    '/demand/signals',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: 'Record one demand signal or a batch (all-or-nothing); re-sent signals are not counted twice',
        ...secured,
        body: Type.Union([
          Signal,
          Type.Object(
            { signals: Type.Array(Signal, { minItems: 1, maxItems: 10_000 }) },
            { additionalProperties: false },
          ),
        ]),
        response: { 200: IngestResult, ...errorResponses, 400: Rejection },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const signals = 'signals' in body ? body.signals : [body];
      try {
        return await demand.recordSignals(request.user, signals);
      } catch (err) {
        if (err instanceof SignalRejection) return reply.status(400).send(rejection(err));
        throw err;
      }
    },
  );

  fastify.post(
    '/demand/signals.csv',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: 'Upload signals as CSV (sku,kind,quantity,date[,id,channel,region]); errors listed by row',
        description:
          'All-or-nothing by default: one bad row rejects the file (400) with every bad row listed. With partial=true the good rows are stored and the bad ones reported. Re-uploading a file changes nothing.',
        ...secured,
        consumes: ['text/csv'],
        querystring: Type.Object({ partial: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: {
          200: Type.Intersect([IngestResult, Type.Object({ rejected: Type.Integer(), errors: Type.Array(RowError) })]),
          ...errorResponses,
          400: Rejection,
        },
      },
    },
    async (request, reply) => {
      if (typeof request.body !== 'string') {
        return reply
          .status(400)
          .send({ statusCode: 400, code: 'VALIDATION_FAILED', message: 'send text/csv', errors: [] });
      }
      try {
        return await demand.uploadCsv(request.user, request.body, { partial: request.query.partial });
      } catch (err) {
        if (err instanceof SignalRejection) return reply.status(400).send(rejection(err));
        throw err;
      }
    },
  );

  fastify.get(
    '/demand/series/:level/:key',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: 'Aggregated daily, weekly, monthly or quarterly series of a SKU, product, category or the brand',
        ...secured,
        params: Type.Object({ level: Type.Union(Levels.map((l) => Type.Literal(l))), key: Key }),
        querystring: Type.Object(
          {
            interval: Type.Optional(Type.Enum(Frequencies)),
            kinds: Type.Optional(Type.Array(Type.Union(SignalKinds.map((k) => Type.Literal(k))), { minItems: 1 })),
            from: Type.Optional(Day),
            to: Type.Optional(Day),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            level: Type.String(),
            key: Type.String(),
            interval: Type.String(),
            points: Type.Array(Type.Object({ date: Type.String(), quantity: Type.Number() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { level, key } = request.params;
      const interval = request.query.interval ?? 'day';
      const points = await demand.series(request.user, level, key, { ...request.query, interval });
      return { level, key, interval, points };
    },
  );

  fastify.post(
    '/demand/forecasts',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: 'Start a forecast run for every SKU of the brand; follow it at GET /demand/forecasts/{runId}',
        description: `The signals are summed to the frequency (default day) and forecast \`horizon\` periods of it ahead (default ${Object.entries(
          DEFAULT_HORIZON,
        )
          .map(([f, h]) => `${f} ${h}`)
          .join(', ')}; at most ${Object.entries(MAX_HORIZON)
          .map(([f, h]) => `${f} ${h}`)
          .join(', ')}). \`horizonDays\` (7-365) is the older form of a daily horizon.`,
        ...secured,
        body: Type.Optional(
          Type.Object(
            {
              frequency: Type.Optional(FrequencySchema),
              horizon: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HORIZON.day })),
              horizonDays: Type.Optional(Type.Integer({ minimum: 7, maximum: 365 })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 202: Run, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      if (body.horizonDays !== undefined && (body.frequency ?? 'day') !== 'day') {
        throw new CodedError(
          ErrorCodes.VALIDATION_FAILED,
          'horizonDays is for daily runs: give horizon in periods',
          400,
        );
      }
      const horizon = body.horizon ?? body.horizonDays;
      return reply
        .status(202)
        .send(await forecastRuns.requestRun(request.user, { frequency: body.frequency, horizon }));
    },
  );

  fastify.get(
    '/demand/forecasts',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        ...secured,
        response: { 200: Type.Object({ items: Type.Array(Run) }), ...errorResponses },
      },
    },
    async (request) => ({ items: await forecastRuns.listRuns(request.user) }),
  );

  fastify.get(
    '/demand/forecasts/:runId',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: 'A forecast run: progress (percent, series done/total), overall and per-series scores',
        ...secured,
        params: IdParam('runId'),
        response: { 200: RunDetail, ...errorResponses },
      },
    },
    async (request) => forecastRuns.getRun(request.user, request.params.runId as string),
  );

  const seriesHandler = async (
    user: Parameters<typeof demand.series>[0],
    runId: string,
    level: (typeof Levels)[number],
    key: string,
    historyDays: number,
  ) => {
    const s = await forecastRuns.getSeries(user, runId, level, key);
    const run = await forecastRuns.getRun(user, runId);
    // History up to the day before the first forecast period (a partial last period was not modelled).
    const to = s.days[0]
      ? new Date(Date.parse(`${s.days[0]}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
      : (run.historyTo ?? undefined);
    const from =
      to && historyDays
        ? new Date(Math.max(Date.parse(run.historyFrom ?? to), Date.parse(to) - (historyDays - 1) * 86_400_000))
            .toISOString()
            .slice(0, 10)
        : undefined;
    const history = to ? await demand.series(user, level, key, { from, to, interval: s.frequency }) : [];
    return {
      level: s.level,
      key: s.key,
      model: s.model,
      frequency: s.frequency,
      selection: s.selection as Static<typeof Selection> | null,
      scores: s.scores,
      candidates: s.candidates,
      history,
      forecast: s.days.map((date, i) => ({
        date,
        point: s.forecast.point[i],
        lo80: s.forecast.lo80[i],
        hi80: s.forecast.hi80[i],
        lo95: s.forecast.lo95[i],
        hi95: s.forecast.hi95[i],
      })),
    };
  };
  const HistoryQuery = Type.Object(
    { historyDays: Type.Optional(Type.Integer({ minimum: 7, maximum: 3660, default: 365 })) },
    { additionalProperties: false },
  );

  fastify.get(
    '/demand/forecasts/:runId/series/:sku',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: "A SKU's history and forecast with 80% and 95% intervals, its model and backtest scores",
        ...secured,
        params: Type.Object({ runId: IdParam('runId').properties.runId, sku: Key }),
        querystring: HistoryQuery,
        response: { 200: SeriesForecast, ...errorResponses },
      },
    },
    async (request) =>
      seriesHandler(request.user, request.params.runId, 'sku', request.params.sku, request.query.historyDays ?? 365),
  );

  fastify.get(
    '/demand/forecasts/:runId/:level/:key',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: 'A product, category or brand forecast: the bottom-up sum of its SKUs',
        ...secured,
        params: Type.Object({
          runId: IdParam('runId').properties.runId,
          level: Type.Union([Type.Literal('product'), Type.Literal('category'), Type.Literal('brand')]),
          key: Key,
        }),
        querystring: HistoryQuery,
        response: { 200: SeriesForecast, ...errorResponses },
      },
    },
    async (request) =>
      seriesHandler(
        request.user,
        request.params.runId,
        request.params.level,
        request.params.key,
        request.query.historyDays ?? 365,
      ),
  );

  fastify.post(
    '/demand/forecasts/:runId/draft-order',
    {
      preHandler: brandOnly,
      schema: {
        tags: ['demand'],
        summary: "Turn a product's forecast into a draft custom order: quantities by variant and period",
        description:
          'Periods follow the run: whole ISO weeks for daily and weekly runs, months or quarters for monthly and quarterly ones (each due in the ISO week it starts in). `periods` counts them; `weeks` is its older name.',
        ...secured,
        params: IdParam('runId'),
        body: Type.Object(
          {
            productId: Key,
            weeks: Type.Optional(Type.Integer({ minimum: 1, maximum: 52 })),
            periods: Type.Optional(Type.Integer({ minimum: 1, maximum: 104 })),
            basis: Type.Optional(Type.Union([Type.Literal('point'), Type.Literal('upper80')])),
            targetPriceMinor: Type.Optional(Type.Integer({ minimum: 0 })),
            currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
            shipTo: Type.Optional(Name(300)),
          },
          { additionalProperties: false },
        ),
        response: { 201: Order, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await forecastRuns.draftOrder(request.user, request.params.runId as string, request.body)),
  );
};

function rejection(err: SignalRejection) {
  return { statusCode: 400, code: err.code, message: err.message, errors: [...err.errors] };
}

export default routes;
