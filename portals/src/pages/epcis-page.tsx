import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ProofBundle, VerifyResult } from '../api';
import { type EpcisEvent, epcisApi } from '../api/epcis';
import { Card, Empty, ErrorNote, Mono, PageTitle } from '../components/ui';
import { formatDateTime, formatNumber, shortHash } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';
import { pinnedTrust } from '../proof/trust';
import { verifyProofBundleInBrowser } from '../proof/verify-bundle';
import { ChecksList } from './financier-portal';

const REFRESH_MS = 6000;
const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransformationEvent', 'AssociationEvent', 'TransactionEvent'];
const BIZ_STEPS = ['commissioning', 'inspecting', 'sensor_reporting', 'packing', 'shipping', 'receiving'];

/** The last path segments of a Digital Link or URN: enough to tell serials, cartons and lines apart. */
function shortUri(uri: string | undefined): string {
  if (!uri) return '';
  const m = /^https?:\/\/[^/]+(\/.*)$/.exec(uri);
  return m ? (m[1] as string) : uri;
}

function what(e: EpcisEvent): string {
  const n = (e.epcList?.length ?? 0) + (e.childEPCs?.length ?? 0);
  const q = (e.quantityList ?? []).reduce((s, x) => s + (x.quantity ?? 0), 0);
  const parts: string[] = [];
  if (e.parentID) parts.push(`${shortUri(e.parentID)} ⊃`);
  if (n > 0) parts.push(`${n} EPC`);
  if (q > 0) parts.push(`${q} (class)`);
  const report = e.sensorElementList?.[0]?.sensorReport?.[0];
  if (report?.type)
    parts.push(
      `${report.type.replace(/^gs1:MT-|^c2m:MT-/, '')} ${report.value ?? ''}${report.uom ? ` ${report.uom}` : ''}`,
    );
  return parts.join(' ');
}

type Check =
  | { phase: 'idle' }
  | { phase: 'running' }
  | { phase: 'done'; bundle: ProofBundle; result: VerifyResult | Error };

function EventRow({ event }: { event: EpcisEvent }) {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [check, setCheck] = useState<Check>({ phase: 'idle' });

  async function verify() {
    setOpen(true);
    setCheck({ phase: 'running' });
    let bundle: ProofBundle | undefined;
    try {
      bundle = await epcisApi(api).proof(event.eventID);
      const result = await verifyProofBundleInBrowser(bundle, await pinnedTrust(api));
      setCheck({ phase: 'done', bundle, result });
    } catch (e) {
      setCheck({ phase: 'done', bundle: bundle as ProofBundle, result: e instanceof Error ? e : new Error(String(e)) });
    }
  }
  const done = check.phase === 'done' ? check : undefined;
  const verified = done && !(done.result instanceof Error) && done.result.valid;
  const source = event['c2m:device']
    ? t('epcis.fromDevice', { device: String(event['c2m:device']) })
    : t('epcis.captured');
  return (
    <>
      <tr data-testid="epcis-event-row" data-event-id={event.eventID}>
        <td>{formatDateTime(event.eventTime, i18n.language)}</td>
        <td>{event.type.replace('Event', '')}</td>
        <td>{event.bizStep ?? ''}</td>
        <td>{event.disposition ?? ''}</td>
        <td className="small">{what(event)}</td>
        <td className="small">
          <Mono title={event.readPoint?.id}>{shortUri(event.readPoint?.id)}</Mono>
        </td>
        <td className="small">{source}</td>
        <td>
          <Mono title={event.eventID}>{shortHash(event.eventID.replace(/^ni:\/\/\/sha-256;/, ''), 10)}</Mono>
        </td>
        <td className="actions">
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setOpen(!open)}
            data-testid="epcis-event-toggle"
          >
            {open ? t('epcis.hide') : t('epcis.show')}
          </button>
          <button
            type="button"
            className="btn btn-small btn-primary"
            data-testid="epcis-verify"
            disabled={check.phase === 'running'}
            onClick={() => void verify()}
          >
            {check.phase === 'running' ? t('financier.verifying') : t('epcis.verify')}
          </button>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={9}>
            {done && (
              <div
                className={`verdict ${verified ? 'verdict-ok' : 'verdict-bad'}`}
                data-testid="epcis-verify-result"
                data-verified={verified ? 'true' : 'false'}
              >
                <span className="verdict-icon">{verified ? '✔' : '✘'}</span>
                <div>
                  <strong data-testid="epcis-verify-verdict">
                    {verified ? t('financier.verified') : t('financier.notVerified')}
                  </strong>
                  <p>{verified ? t('epcis.verifiedDetail') : t('financier.notVerifiedDetail')}</p>
                </div>
              </div>
            )}
            {done && (
              <ChecksList title={t('financier.browserChecks')} result={done.result} testId="epcis-browser-checks" />
            )}
            <pre className="json small" data-testid="epcis-event-json">
              {JSON.stringify(event, null, 2)}
            </pre>
          </td>
        </tr>
      )}
    </>
  );
}

function IdentityCard() {
  const { t } = useTranslation();
  const { api, user } = useSession();
  const epcis = epcisApi(api);
  const prefix = usePoll(() => epcis.companyPrefix(), REFRESH_MS * 5, [api]);
  const locations = usePoll(() => epcis.locations(), REFRESH_MS * 5, [api]);
  const products = usePoll(
    () => (user?.orgKind === 'brand' ? epcis.products() : Promise.resolve({ items: [] })),
    REFRESH_MS * 5,
    [api, user?.orgKind],
  );
  return (
    <Card title={t('epcis.identity')} testId="gs1-identity">
      <p>
        {t('epcis.prefix')}: <Mono>{prefix.data?.companyPrefix ?? t('epcis.none')}</Mono>
      </p>
      {(locations.data?.items.length ?? 0) > 0 && (
        <table className="table small" data-testid="gs1-locations">
          <thead>
            <tr>
              <th>{t('epcis.location')}</th>
              <th>{t('epcis.kind')}</th>
              <th>GLN</th>
              <th>{t('epcis.line')}</th>
            </tr>
          </thead>
          <tbody>
            {locations.data?.items.map((l) => (
              <tr key={l.uri}>
                <td>{l.name}</td>
                <td>{t(`epcis.kinds.${l.kind}`, { defaultValue: l.kind })}</td>
                <td>
                  <Mono title={l.uri}>
                    {l.gln}
                    {l.extension ? ` / ${l.extension}` : ''}
                  </Mono>
                </td>
                <td>{l.line ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(products.data?.items.length ?? 0) > 0 && (
        <table className="table small" data-testid="gs1-products">
          <thead>
            <tr>
              <th>SKU</th>
              <th>GTIN</th>
            </tr>
          </thead>
          <tbody>
            {products.data?.items.map((p) => (
              <tr key={p.gtin}>
                <td>{p.sku}</td>
                <td>
                  <Mono title={p.uri}>{p.gtin}</Mono>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

/**
 * Traceability: the org's GS1 identity and the EPCIS 2.0 events it may see (its own, its products', the work
 * orders it may see), filtered as the standard query allows, each verifiable in this browser from its proof
 * bundle: the event's signature, its Merkle path to an anchor endorsed on the ledger, and for events from devices
 * the device's signature and certification.
 */
export function EpcisPage() {
  const { t, i18n } = useTranslation();
  const { api, user } = useSession();
  const [eventType, setEventType] = useState('');
  const [bizStep, setBizStep] = useState('');
  const [epc, setEpc] = useState('');
  const [applied, setApplied] = useState({ eventType: '', bizStep: '', epc: '' });
  const events = usePoll(() => epcisApi(api).events(applied), REFRESH_MS, [api, applied]);
  return (
    <>
      <PageTitle title={t('epcis.title')} intro={t('epcis.intro')} />
      {user?.orgKind !== 'finance' && <IdentityCard />}
      <Card title={t('epcis.events')} testId="epcis-events">
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            setApplied({ eventType, bizStep, epc: epc.trim() });
          }}
        >
          <select aria-label={t('epcis.eventType')} value={eventType} onChange={(e) => setEventType(e.target.value)}>
            <option value="">{t('epcis.anyType')}</option>
            {EVENT_TYPES.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
          <select aria-label={t('epcis.bizStep')} value={bizStep} onChange={(e) => setBizStep(e.target.value)}>
            <option value="">{t('epcis.anyStep')}</option>
            {BIZ_STEPS.map((x) => (
              <option key={x} value={x}>
                {t(`epcis.steps.${x}`, { defaultValue: x })}
              </option>
            ))}
          </select>
          <input
            aria-label="EPC"
            placeholder={t('epcis.epcPlaceholder')}
            value={epc}
            onChange={(e) => setEpc(e.target.value)}
            data-testid="epcis-epc-filter"
          />
          <button type="submit" className="btn btn-small">
            {t('epcis.filter')}
          </button>
        </form>
        <ErrorNote error={events.error} />
        {events.data === undefined ? (
          <Empty loading={!events.error} />
        ) : events.data.length === 0 ? (
          <Empty />
        ) : (
          <table className="table" data-testid="epcis-events-table">
            <thead>
              <tr>
                <th>{t('epcis.time')}</th>
                <th>{t('epcis.type')}</th>
                <th>{t('epcis.bizStep')}</th>
                <th>{t('epcis.disposition')}</th>
                <th>{t('epcis.what')}</th>
                <th>{t('epcis.where')}</th>
                <th>{t('epcis.source')}</th>
                <th>eventID</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {events.data.map((e) => (
                <EventRow key={`${e.eventID}${e.errorDeclaration ? '-declared' : ''}`} event={e} />
              ))}
            </tbody>
          </table>
        )}
        <p className="muted small">
          {t('epcis.count', { count: formatNumber(events.data?.length ?? 0, i18n.language) })}
        </p>
      </Card>
    </>
  );
}
