import { type FormEvent, Fragment, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { NewOrder, Order, OrderDetail, WorkOrder } from '../api';
import { OrderActions } from '../components/order-actions';
import { OrgName, useOrgName } from '../components/org-name';
import { OfferStatusBadge, OrderStatusBadge, WorkOrderStatusBadge } from '../components/status-badges';
import { Card, Empty, ErrorNote, Mono, PageTitle, Progress } from '../components/ui';
import {
  errorMessage,
  formatDate,
  formatDateTime,
  formatMoney,
  formatNumber,
  isoDateInDays,
  shortHash,
  yuanToMinor,
} from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const REFRESH_MS = 4000;
const DETAIL_ORDERS = 20;
const CURRENCY = 'CNY';

interface LineDraft {
  key: number;
  sku: string;
  colour: string;
  size: string;
  quantity: string;
}

let lineKey = 0;
const newLine = (sku = '', colour = '', size = '', quantity = ''): LineDraft => ({
  key: ++lineKey,
  sku,
  colour,
  size,
  quantity,
});

const splitList = (s: string) =>
  s
    .split(/[,，]/)
    .map((x) => x.trim())
    .filter(Boolean);

function OrderForm({ onPosted }: { onPosted: (o: Order) => void }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const [product, setProduct] = useState('');
  const [lines, setLines] = useState<LineDraft[]>(() => [newLine()]);
  const [price, setPrice] = useState('');
  const [dueDate, setDueDate] = useState(() => isoDateInDays(30));
  const [shipTo, setShipTo] = useState('');
  const [materials, setMaterials] = useState('');
  const [certificates, setCertificates] = useState('');
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [posted, setPosted] = useState<string>();

  const totalQuantity = lines.reduce((s, l) => s + (Number.parseInt(l.quantity, 10) || 0), 0);
  const priceMinor = yuanToMinor(price || 'x');

  function update(key: number, patch: Partial<LineDraft>) {
    setLines((ls) => ls.map((l) => (l.key === key ? { ...l, ...patch } : l)));
  }

  function build(): NewOrder | undefined {
    const orderLines = lines
      .filter((l) => l.sku.trim() && Number.parseInt(l.quantity, 10) > 0)
      .map((l) => ({
        sku: l.sku.trim(),
        ...(l.colour.trim() ? { colour: l.colour.trim() } : {}),
        ...(l.size.trim() ? { size: l.size.trim() } : {}),
        quantity: Number.parseInt(l.quantity, 10),
      }));
    if (!product.trim() || !shipTo.trim() || !dueDate || !Number.isFinite(priceMinor) || priceMinor <= 0) return;
    if (orderLines.length === 0) return;
    const spec = {
      ...(splitList(materials).length ? { materials: splitList(materials) } : {}),
      ...(splitList(certificates).length ? { requiredCertificates: splitList(certificates) } : {}),
      ...(notes.trim() ? { notes: notes.trim() } : {}),
    };
    return {
      product: product.trim(),
      lines: orderLines,
      ...(Object.keys(spec).length ? { spec } : {}),
      targetPriceMinor: priceMinor,
      currency: CURRENCY,
      dueDate,
      shipTo: shipTo.trim(),
    };
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPosted(undefined);
    const order = build();
    if (!order) {
      setError(t('brand.invalid'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.createOrder(order);
      setPosted(created.id);
      setProduct('');
      setLines([newLine()]);
      setPrice('');
      setNotes('');
      onPosted(created);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={t('brand.newOrder')} testId="order-form-card">
      <form className="form" onSubmit={onSubmit} data-testid="order-form">
        <div className="grid-2">
          <label className="field">
            <span>{t('brand.product')}</span>
            <input
              data-testid="order-product"
              value={product}
              placeholder={t('brand.productPlaceholder')}
              onChange={(e) => setProduct(e.target.value)}
            />
          </label>
          <label className="field">
            <span>{t('brand.shipTo')}</span>
            <input
              data-testid="order-ship-to"
              value={shipTo}
              placeholder={t('brand.shipToPlaceholder')}
              onChange={(e) => setShipTo(e.target.value)}
            />
          </label>
        </div>

        <fieldset className="lines">
          <legend>{t('brand.lines')}</legend>
          <div className="line-row line-head">
            <span>{t('brand.sku')}</span>
            <span>{t('brand.colour')}</span>
            <span>{t('brand.size')}</span>
            <span>{t('brand.quantity')}</span>
            <span />
          </div>
          {lines.map((l, i) => (
            <div className="line-row" key={l.key} data-testid="order-line">
              <input
                aria-label={t('brand.sku')}
                data-testid={`line-sku-${i}`}
                value={l.sku}
                onChange={(e) => update(l.key, { sku: e.target.value })}
              />
              <input
                aria-label={t('brand.colour')}
                data-testid={`line-colour-${i}`}
                value={l.colour}
                onChange={(e) => update(l.key, { colour: e.target.value })}
              />
              <input
                aria-label={t('brand.size')}
                data-testid={`line-size-${i}`}
                value={l.size}
                onChange={(e) => update(l.key, { size: e.target.value })}
              />
              <input
                aria-label={t('brand.quantity')}
                data-testid={`line-quantity-${i}`}
                type="number"
                min={1}
                step={1}
                value={l.quantity}
                onChange={(e) => update(l.key, { quantity: e.target.value })}
              />
              <button
                type="button"
                className="btn btn-small btn-ghost-dark"
                title={t('brand.removeLine')}
                aria-label={t('brand.removeLine')}
                disabled={lines.length === 1}
                onClick={() => setLines((ls) => ls.filter((x) => x.key !== l.key))}
              >
                ✕
              </button>
            </div>
          ))}
          <button
            type="button"
            className="btn btn-small btn-secondary"
            data-testid="order-add-line"
            onClick={() => setLines((ls) => [...ls, newLine()])}
          >
            + {t('brand.addLine')}
          </button>
        </fieldset>

        <div className="grid-3">
          <label className="field">
            <span>{t('brand.targetPrice')}</span>
            <input
              data-testid="order-price"
              type="number"
              min={0.01}
              step={0.01}
              value={price}
              onChange={(e) => setPrice(e.target.value)}
            />
          </label>
          <label className="field">
            <span>{t('brand.dueDate')}</span>
            <input
              data-testid="order-due-date"
              type="date"
              value={dueDate}
              onChange={(e) => setDueDate(e.target.value)}
            />
          </label>
          <label className="field">
            <span>{t('brand.notes')}</span>
            <input data-testid="order-notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
          </label>
          <label className="field">
            <span>{t('brand.materials')}</span>
            <input value={materials} onChange={(e) => setMaterials(e.target.value)} />
          </label>
          <label className="field">
            <span>{t('brand.certificates')}</span>
            <input value={certificates} onChange={(e) => setCertificates(e.target.value)} />
          </label>
        </div>

        <div className="form-footer">
          <span className="muted">
            {t('brand.total', {
              quantity: formatNumber(totalQuantity, i18n.language),
              amount: Number.isFinite(priceMinor)
                ? formatMoney(priceMinor * totalQuantity, CURRENCY, i18n.language)
                : '–',
            })}
          </span>
          <button type="submit" className="btn btn-primary" data-testid="order-submit" disabled={busy}>
            {t('brand.submit')}
          </button>
        </div>
        {error && (
          <p className="note note-error" role="alert" data-testid="order-error">
            {error}
          </p>
        )}
        {posted && (
          <p className="note note-ok" data-testid="order-posted">
            {t('brand.posted', { id: posted })}
          </p>
        )}
      </form>
    </Card>
  );
}

function OrderDetails({ orderId, workOrders }: { orderId: string; workOrders: WorkOrder[] }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const { data, error, loading, reload } = usePoll(() => api.getOrder(orderId), REFRESH_MS, [api, orderId]);
  const wos = data?.workOrders ?? workOrders;
  return (
    <div className="details" data-testid="order-details">
      <ErrorNote error={error} />
      {data && <OrderActions order={data} onChange={() => void reload()} />}
      {data && (
        <p className="muted">
          {data.lines
            .map((l) => `${[l.sku, l.colour, l.size].filter(Boolean).join(' / ')} × ${l.quantity}`)
            .join(' · ')}
          {' — '}
          {data.shipTo}
        </p>
      )}
      <div className="grid-2">
        <div>
          <h4>{t('brand.offers')}</h4>
          {!data?.offers?.length ? (
            <Empty loading={loading} />
          ) : (
            <table className="table table-compact">
              <tbody>
                {data.offers.map((o) => (
                  <tr key={o.id}>
                    <td>
                      <OrgName mspId={o.factoryMspId} />
                    </td>
                    <td className="num">{formatNumber(o.quantity, i18n.language)}</td>
                    <td className="num">{formatMoney(o.priceMinor, o.currency, i18n.language)}</td>
                    <td>
                      <OfferStatusBadge status={o.status} />
                      {o.declineReason && <span className="muted"> ({t(`declineReasons.${o.declineReason}`)})</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div>
          <h4>{t('brand.workOrders')}</h4>
          {!wos.length ? (
            <Empty loading={loading} />
          ) : (
            <table className="table table-compact">
              <tbody>
                {wos.map((w) => (
                  <tr key={w.id}>
                    <td>
                      <OrgName mspId={w.factoryMspId} />
                    </td>
                    <td>
                      <Progress value={w.producedUnits} max={w.quantity} />{' '}
                      {t('brand.produced', {
                        produced: formatNumber(w.producedUnits, i18n.language),
                        quantity: formatNumber(w.quantity, i18n.language),
                      })}
                    </td>
                    <td>
                      <WorkOrderStatusBadge status={w.status} />
                    </td>
                    <td>
                      {w.ledger ? (
                        <Mono title={w.ledger.txId}>{t('common.block', { n: w.ledger.blockNumber })}</Mono>
                      ) : (
                        <span className="muted">{t('common.pending')}</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </div>
  );
}

export function BrandPortal() {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const orders = usePoll(() => api.listOrders(), REFRESH_MS, [api]);
  const workOrders = usePoll(() => api.listWorkOrders(), REFRESH_MS, [api]);
  const [open, setOpen] = useState<string>();
  const orgName = useOrgName();

  const woByOrder = useMemo(() => {
    const m = new Map<string, WorkOrder[]>();
    for (const w of workOrders.data?.items ?? []) m.set(w.orderId, [...(m.get(w.orderId) ?? []), w]);
    return m;
  }, [workOrders.data]);

  const items = [...(orders.data?.items ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  // The list carries no offers; read them from each recent order's detail (a brand has few live orders).
  const recentIds = items.slice(0, DETAIL_ORDERS).map((o) => o.id);
  const details = usePoll(
    async () => {
      const found = await Promise.all(recentIds.map((id) => api.getOrder(id).catch(() => undefined)));
      return new Map(found.filter((o): o is OrderDetail => o !== undefined).map((o) => [o.id, o]));
    },
    REFRESH_MS * 2,
    [api, recentIds.join(',')],
  );

  return (
    <div className="page" data-testid="brand-portal">
      <PageTitle title={t('brand.title')} intro={t('brand.intro')} />
      <OrderForm
        onPosted={() => {
          void orders.reload();
        }}
      />
      <Card
        title={t('brand.myOrders')}
        actions={<span className="muted small">{t('common.autoRefresh', { seconds: REFRESH_MS / 1000 })}</span>}
        testId="orders-card"
      >
        <ErrorNote error={orders.error} />
        {items.length === 0 ? (
          <Empty loading={orders.loading} />
        ) : (
          <table className="table" data-testid="orders-table">
            <thead>
              <tr>
                <th>{t('brand.product')}</th>
                <th className="num">{t('brand.totalQuantity')}</th>
                <th className="num">{t('brand.targetPrice')}</th>
                <th>{t('brand.dueDate')}</th>
                <th>{t('brand.status')}</th>
                <th>{t('brand.offers')}</th>
                <th>{t('brand.workOrders')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((o) => {
                const offers = details.data?.get(o.id)?.offers ?? [];
                const wos = woByOrder.get(o.id) ?? [];
                const produced = wos.reduce((s, w) => s + w.producedUnits, 0);
                const isOpen = open === o.id;
                return (
                  <Fragment key={o.id}>
                    <tr data-testid="order-row" data-order-id={o.id}>
                      <td>
                        <strong>{o.product}</strong>
                        <div className="muted small">
                          <Mono>{shortHash(o.id, 6)}</Mono> · {formatDateTime(o.createdAt, i18n.language)}
                        </div>
                      </td>
                      <td className="num">{formatNumber(o.totalQuantity, i18n.language)}</td>
                      <td className="num">{formatMoney(o.targetPriceMinor, o.currency, i18n.language)}</td>
                      <td>{formatDate(o.dueDate, i18n.language)}</td>
                      <td>
                        <OrderStatusBadge status={o.status} />
                      </td>
                      <td data-testid="order-offers">
                        {offers.length
                          ? offers.map((x) => (
                              <span key={x.id} className="offer-chip" title={orgName(x.factoryMspId)}>
                                <OfferStatusBadge status={x.status} />
                              </span>
                            ))
                          : '–'}
                      </td>
                      <td>
                        {wos.length ? (
                          <span>
                            {wos.length} · <Progress value={produced} max={o.totalQuantity} />
                          </span>
                        ) : (
                          '–'
                        )}
                      </td>
                      <td>
                        <button
                          type="button"
                          className="btn btn-small btn-secondary"
                          data-testid="order-toggle"
                          onClick={() => setOpen(isOpen ? undefined : o.id)}
                        >
                          {isOpen ? t('common.hide') : t('common.details')}
                        </button>
                      </td>
                    </tr>
                    {isOpen && (
                      <tr className="details-row">
                        <td colSpan={8}>
                          <OrderDetails orderId={o.id} workOrders={wos} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
