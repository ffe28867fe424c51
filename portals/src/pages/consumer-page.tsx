import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, Card, ErrorNote } from '../components/ui';
import { type LanguageCode, Languages, setLanguage } from '../i18n';

/**
 * The public product page a consumer reaches by scanning the product's QR code (the resolver redirects
 * `/01/{gtin}/21/{serial}` here): no login, mobile-first. What it shows comes from the public API
 * (`/api/public/products/...`): product and brand, factory, the certified devices that made and inspected it,
 * QC results, shipping, and a recall banner when the ledger's Recalls records hold an open recall of its lot.
 * "On the ledger" lists the anchors of the redacted events (`.../proof`) and checks their commitments' form.
 */

interface Product {
  gtin: string;
  serial: string;
  lot: string | null;
  product: { name: string; sku: string };
  brand: { mspId: string; names: { en: string; zh: string } };
  factory: { mspId: string; names: { en: string; zh: string } } | null;
  line: string | null;
  devices: { deviceId: string; model: string | null; roles: string[]; certifiedAtEventTime: boolean }[];
  qc: { eventID: string; eventTime: string | null; disposition: string | null; pass: boolean }[];
  shipping: { eventID: string; bizStep: string | null; eventTime: string | null }[];
  recalls: { recallId: string; status: string; reason: string; openedAt: string; txId: string | null }[];
}
interface Bundle {
  events: {
    eventID: string;
    redacted: Record<string, string>;
    anchor: { txId: string; blockNumber: number } | null;
  }[];
}

/** `/consumer/01/{gtin}/21/{serial}` → its parts, or undefined. */
export function consumerRoute(pathname: string): { gtin: string; serial: string } | undefined {
  const m = /^\/consumer\/01\/(\d{14})\/21\/([^/]{1,20})$/.exec(pathname);
  return m ? { gtin: m[1] as string, serial: decodeURIComponent(m[2] as string) } : undefined;
}

const fmt = (t: string | null) => (t ? new Date(t).toLocaleString() : '');

export function ConsumerPage({ gtin, serial }: { gtin: string; serial: string }) {
  const { t, i18n } = useTranslation();
  const [product, setProduct] = useState<Product | null>(null);
  const [bundle, setBundle] = useState<Bundle | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const base = `/api/public/products/01/${gtin}/21/${encodeURIComponent(serial)}`;
    const get = async (url: string) => {
      const r = await fetch(url);
      const body = await r.json();
      if (!r.ok) throw new Error(body?.message ?? `HTTP ${r.status}`);
      return body;
    };
    get(base).then(setProduct, setError);
    get(`${base}/proof`).then(setBundle, () => setBundle({ events: [] }));
  }, [gtin, serial]);
  const zh = i18n.language.startsWith('zh');
  const name = (n: { en: string; zh: string }) => (zh ? n.zh : n.en);
  const anchored = bundle?.events.filter((e) => e.anchor) ?? [];
  const wellFormed = bundle?.events.every((e) => Object.values(e.redacted).every((h) => /^[0-9a-f]{64}$/.test(h)));

  return (
    <main className="main consumer" data-testid="consumer-page" data-state={product ? 'ready' : 'loading'}>
      <div style={{ display: 'flex', justifyContent: 'flex-end', gap: '0.5rem' }}>
        {Languages.map((l) => (
          <button key={l.code} type="button" className="btn" onClick={() => setLanguage(l.code as LanguageCode)}>
            {l.label}
          </button>
        ))}
      </div>
      <ErrorNote error={error} />
      {product && product.recalls.length > 0 && (
        <div className="note note-error" role="alert" data-testid="recall-banner">
          <strong>{t('consumer.recallTitle')}</strong>
          {product.recalls.map((r) => (
            <p key={r.recallId}>
              {r.reason} ({t('consumer.recallStatus', { status: r.status })}, {fmt(r.openedAt)}) —{' '}
              {t('consumer.fromLedger')}
            </p>
          ))}
        </div>
      )}
      {product && (
        <>
          <Card title={product.product.name || product.product.sku} testId="consumer-product">
            <p>
              {t('consumer.brand')}: <strong data-testid="consumer-brand">{name(product.brand.names)}</strong>
            </p>
            <p>
              {t('consumer.factory')}: {product.factory ? name(product.factory.names) : '—'}
              {product.line ? ` · ${product.line}` : ''}
            </p>
            <p>
              GTIN {product.gtin} · {t('consumer.serial')} {product.serial}
              {product.lot ? ` · ${t('consumer.lot')} ${product.lot}` : ''}
            </p>
          </Card>
          <Card title={t('consumer.devices')} testId="consumer-devices">
            {product.devices.length === 0 && <p>—</p>}
            {product.devices.map((d) => (
              <p key={d.deviceId}>
                {d.deviceId} {d.model ? `(${d.model})` : ''} ·{' '}
                {d.roles.map((r) => t(r === 'inspected' ? 'consumer.role.inspected' : 'consumer.role.made')).join(', ')}{' '}
                <Badge tone={d.certifiedAtEventTime ? 'good' : 'warn'}>
                  {d.certifiedAtEventTime ? t('consumer.certified') : t('consumer.notCertified')}
                </Badge>
              </p>
            ))}
          </Card>
          <Card title={t('consumer.qc')} testId="consumer-qc">
            {product.qc.length === 0 && <p>—</p>}
            {product.qc.map((q) => (
              <p key={q.eventID}>
                <Badge tone={q.pass ? 'good' : 'bad'}>{q.pass ? t('consumer.pass') : t('consumer.fail')}</Badge>{' '}
                {fmt(q.eventTime)}
              </p>
            ))}
          </Card>
          <Card title={t('consumer.shipping')} testId="consumer-shipping">
            {product.shipping.length === 0 && <p>—</p>}
            {product.shipping.map((s) => (
              <p key={s.eventID}>
                {t(`consumer.step.${s.bizStep === 'receiving' ? 'receiving' : 'shipping'}`)} · {fmt(s.eventTime)}
              </p>
            ))}
          </Card>
          <Card title={t('consumer.ledger')} testId="consumer-ledger">
            <p data-testid="consumer-anchored" data-value={anchored.length}>
              {t('consumer.anchored', { n: anchored.length, total: bundle?.events.length ?? 0 })}
            </p>
            <p>{wellFormed ? t('consumer.redactionOk') : t('common.loading')}</p>
          </Card>
        </>
      )}
    </main>
  );
}
