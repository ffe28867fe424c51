import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { OrderDetail, WorkOrder } from '../api';
import { errorMessage, formatDateTime } from '../lib/format';
import { useSession } from '../lib/session';

/** Order statuses in which the brand may still change the order (nothing accepted yet). */
const EDITABLE = new Set(['draft', 'posted', 'dispatching', 'offered']);

/**
 * What a brand does with its order after posting it: change the due date, target price or ship-to (a new
 * version; open offers are re-dispatched), cancel it while nothing is accepted, confirm delivery of a shipped
 * work order (the DELIVERED milestone, on the ledger), and close it once delivered. When dispatch found no
 * factory, the latest reason is shown in words with what would help.
 */
export function OrderActions({ order, onChange }: { order: OrderDetail; onChange: () => void }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const [dueDate, setDueDate] = useState(order.dueDate);
  const [price, setPrice] = useState(String(order.targetPriceMinor / 100));
  const [shipTo, setShipTo] = useState(order.shipTo);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string }>();
  const enc = encodeURIComponent;

  async function run(action: () => Promise<unknown>, done: string) {
    setBusy(true);
    setNote(undefined);
    try {
      await action();
      setNote({ ok: true, text: done });
      setEditing(false);
      onChange();
    } catch (e) {
      setNote({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  const waiting = [...order.history]
    .reverse()
    .find((h) => h.action === 'no_factory_available' || h.action === 'offered');
  const shipped = order.workOrders.filter((w: WorkOrder) => w.status === 'shipped');
  return (
    <div className="order-actions" data-testid="order-actions">
      {waiting?.action === 'no_factory_available' && (
        <p className="note warn" data-testid="dispatch-waiting">
          {t('orderActions.waiting', { at: formatDateTime(waiting.at, i18n.language) })}
        </p>
      )}
      <div className="actions">
        {EDITABLE.has(order.status) && (
          <button type="button" className="btn btn-small" data-testid="order-edit" onClick={() => setEditing(!editing)}>
            {t('orderActions.edit')}
          </button>
        )}
        {EDITABLE.has(order.status) && (
          <button
            type="button"
            className="btn btn-small"
            data-testid="order-cancel"
            disabled={busy}
            onClick={() =>
              void run(
                () => api.request('POST', `/api/orders/${enc(order.id)}/cancel`, {}),
                t('orderActions.cancelled'),
              )
            }
          >
            {t('orderActions.cancel')}
          </button>
        )}
        {shipped.map((w) => (
          <button
            key={w.id}
            type="button"
            className="btn btn-small btn-primary"
            data-testid="confirm-delivery"
            disabled={busy}
            onClick={() =>
              void run(
                () => api.request('POST', `/api/work-orders/${enc(w.id)}/milestones`, { milestone: 'DELIVERED' }),
                t('orderActions.delivered'),
              )
            }
          >
            {t('orderActions.confirmDelivery')}
          </button>
        ))}
        {order.status === 'delivered' && (
          <button
            type="button"
            className="btn btn-small btn-primary"
            data-testid="order-close"
            disabled={busy}
            onClick={() =>
              void run(() => api.request('POST', `/api/orders/${enc(order.id)}/close`, {}), t('orderActions.closed'))
            }
          >
            {t('orderActions.close')}
          </button>
        )}
      </div>
      {editing && (
        <form
          className="filters"
          data-testid="order-edit-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(
              () =>
                api.request('PATCH', `/api/orders/${enc(order.id)}`, {
                  dueDate,
                  targetPriceMinor: Math.round(Number(price) * 100),
                  shipTo,
                }),
              t('orderActions.saved'),
            );
          }}
        >
          <label>
            {t('orderActions.dueDate')}{' '}
            <input type="date" value={dueDate} onChange={(e) => setDueDate(e.target.value)} required />
          </label>
          <label>
            {t('orderActions.price')}{' '}
            <input
              type="number"
              min="0"
              step="0.01"
              value={price}
              onChange={(e) => setPrice(e.target.value)}
              required
            />
          </label>
          <label>
            {t('orderActions.shipTo')} <input value={shipTo} onChange={(e) => setShipTo(e.target.value)} required />
          </label>
          <button type="submit" className="btn btn-small btn-primary" disabled={busy} data-testid="order-save">
            {t('orderActions.save')}
          </button>
        </form>
      )}
      {note && (
        <p className={`small ${note.ok ? 'ok' : 'warn'}`} data-testid="order-action-note">
          {note.text}
        </p>
      )}
    </div>
  );
}
