import { type FormEvent, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { dispatchApi, type FactoryProfile } from '../api/dispatch';
import { Badge, Card, Empty, ErrorNote, PageTitle } from '../components/ui';
import { errorMessage, formatNumber } from '../lib/format';
import { useSession, useUser } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)}%`);

/** The factory's own profile: what dispatch knows about it, the capacity it counts, and a JSON editor. */
export function FactoryProfilePage() {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const user = useUser();
  const dispatch = useMemo(() => dispatchApi(api), [api]);
  const view = usePoll(() => dispatch.getProfile(user.mspId), 0, [user.mspId]);
  const [draft, setDraft] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const v = view.data;

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    let profile: FactoryProfile;
    try {
      profile = JSON.parse(draft ?? '') as FactoryProfile;
    } catch (err) {
      setError(errorMessage(err));
      return;
    }
    setBusy(true);
    try {
      await dispatch.putProfile(user.mspId, profile);
      setDraft(undefined);
      await view.reload();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageTitle title={t('dispatch.profileTitle')} intro={t('dispatch.profileIntro')} />
      <ErrorNote error={view.error} />
      {!v ? (
        <Empty loading={view.loading} />
      ) : (
        <>
          <Card title={v.profile.name} testId="factory-profile">
            <dl className="facts">
              <dt>{t('dispatch.location')}</dt>
              <dd>{[v.profile.location.city, v.profile.location.province].filter(Boolean).join(', ')}</dd>
              <dt>{t('dispatch.categories')}</dt>
              <dd>{v.profile.capabilities.categories.join(', ')}</dd>
              <dt>{t('dispatch.processes')}</dt>
              <dd>{v.profile.capabilities.processes.join(', ')}</dd>
              <dt>{t('dispatch.materials')}</dt>
              <dd>{v.profile.capabilities.materials.join(', ')}</dd>
              <dt>{t('dispatch.minBatch')}</dt>
              <dd>{formatNumber(v.profile.minBatch, i18n.language)}</dd>
              <dt>{t('dispatch.quality')}</dt>
              <dd data-testid="quality-score">
                {v.quality.inspections === 0
                  ? t('dispatch.noQc', { score: v.quality.score.toFixed(2) })
                  : t('dispatch.qc', {
                      fpy: pct(v.quality.firstPassYield),
                      ppm: formatNumber(v.quality.defectPpm ?? 0, i18n.language),
                      n: v.quality.inspections,
                      score: v.quality.score.toFixed(3),
                    })}
              </dd>
            </dl>
          </Card>
          <Card title={t('dispatch.certificates')}>
            <table>
              <tbody>
                {v.profile.certificates.map((c) => (
                  <tr key={c.name}>
                    <td>{c.name}</td>
                    <td>{c.number ?? ''}</td>
                    <td>
                      <Badge tone={c.validUntil < new Date().toISOString().slice(0, 10) ? 'bad' : 'good'}>
                        {t('dispatch.validUntil', { date: c.validUntil })}
                      </Badge>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <Card title={t('dispatch.lines')}>
            <table>
              <thead>
                <tr>
                  <th>{t('dispatch.line')}</th>
                  <th>{t('dispatch.unitsPerDay')}</th>
                  <th>{t('dispatch.certifiedDevices')}</th>
                </tr>
              </thead>
              <tbody>
                {v.profile.lines.map((l) => {
                  const n = v.lines.find((x) => x.id === l.id)?.certifiedDevices ?? 0;
                  return (
                    <tr key={l.id}>
                      <td>{l.name ? `${l.name} (${l.id})` : l.id}</td>
                      <td>{formatNumber(l.unitsPerDay, i18n.language)}</td>
                      <td>
                        <Badge tone={n > 0 ? 'good' : 'warn'}>{n > 0 ? n : t('dispatch.noDevice')}</Badge>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <p className="muted">{v.profile.shutdowns.map((s) => `${s.reason}: ${s.from} – ${s.to}`).join('; ')}</p>
            <table data-testid="capacity-calendar">
              <thead>
                <tr>
                  <th>{t('dispatch.week')}</th>
                  <th>{t('dispatch.capacity')}</th>
                  <th>{t('dispatch.counted')}</th>
                </tr>
              </thead>
              <tbody>
                {v.capacity.map((c) => (
                  <tr key={c.week}>
                    <td>{c.week}</td>
                    <td>{formatNumber(c.units, i18n.language)}</td>
                    <td>{formatNumber(c.certifiedUnits, i18n.language)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <Card title={t('dispatch.edit')}>
            <form onSubmit={save}>
              <textarea
                data-testid="profile-json"
                rows={16}
                style={{ width: '100%', fontFamily: 'monospace' }}
                value={draft ?? JSON.stringify(v.profile, null, 2)}
                onChange={(e) => setDraft(e.target.value)}
              />
              <button type="submit" disabled={busy || draft === undefined}>
                {t('dispatch.save')}
              </button>
              {error && (
                <p className="note note-error" role="alert">
                  {error}
                </p>
              )}
            </form>
          </Card>
        </>
      )}
    </>
  );
}
