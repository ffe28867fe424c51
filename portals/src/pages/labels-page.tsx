import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { WorkOrder } from '../api/types';
import { Card, ErrorNote, PageTitle } from '../components/ui';
import { useSession } from '../lib/session';

/**
 * Printable QR labels for a work order (factory portal, `#/factory/labels`): its lots and the serials of each
 * (up to 24 per lot on one sheet), every label a QR code of the product's GS1 Digital Link on this platform's
 * resolver (`GET /api/qr/01/{gtin}/21/{serial}.svg`), which a phone resolves to the consumer page.
 */
interface Lot {
  gtin: string;
  lot: string;
  quantity: number;
  serialFrom: number;
  serialTo: number;
  uri: string;
}
const PER_LOT = 24;

export function LabelsPage() {
  const { t } = useTranslation();
  const { api } = useSession();
  const [workOrders, setWorkOrders] = useState<WorkOrder[]>([]);
  const [selected, setSelected] = useState('');
  const [lots, setLots] = useState<Lot[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.listWorkOrders().then((r) => {
      setWorkOrders(r.items);
      if (r.items[0]) setSelected(r.items[0].id);
    }, setError);
  }, [api]);
  useEffect(() => {
    if (!selected) return;
    api
      .request<{ items: Lot[] }>('GET', `/api/work-orders/${encodeURIComponent(selected)}/lots`)
      .then((r) => setLots(r.items), setError);
  }, [api, selected]);
  const labels = useMemo(
    () =>
      lots.flatMap((l) =>
        Array.from({ length: Math.min(PER_LOT, l.serialTo - l.serialFrom + 1) }, (_, i) => ({
          lot: l,
          serial: l.serialFrom + i,
        })),
      ),
    [lots],
  );
  return (
    <div data-testid="labels-page">
      <PageTitle title={t('labels.title')} intro={t('labels.intro')} />
      <ErrorNote error={error} />
      <Card
        title={t('labels.workOrder')}
        actions={
          <button type="button" className="btn" onClick={() => window.print()}>
            {t('labels.print')}
          </button>
        }
      >
        <select data-testid="labels-work-order" value={selected} onChange={(e) => setSelected(e.target.value)}>
          {workOrders.map((w) => (
            <option key={w.id} value={w.id}>
              {w.id} · {w.product}
            </option>
          ))}
        </select>
        {lots.map((l) => (
          <p key={`${l.gtin}/${l.lot}`}>
            <img src={`/api/qr/01/${l.gtin}/10/${encodeURIComponent(l.lot)}.svg?size=96`} alt={l.uri} width={96} />{' '}
            {t('labels.lot', { lot: l.lot, gtin: l.gtin, n: l.quantity })}
          </p>
        ))}
        <div
          data-testid="labels-sheet"
          style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(120px, 1fr))', gap: '0.5rem' }}
        >
          {labels.map(({ lot, serial }) => (
            <figure key={`${lot.gtin}/${serial}`} style={{ margin: 0, textAlign: 'center', fontSize: 11 }}>
              <img src={`/api/qr/01/${lot.gtin}/21/${serial}.svg?size=128`} alt={`${lot.gtin} ${serial}`} width={110} />
              <figcaption>
                (01){lot.gtin}
                <br />
                (21){serial} (10){lot.lot}
              </figcaption>
            </figure>
          ))}
        </div>
      </Card>
    </div>
  );
}
