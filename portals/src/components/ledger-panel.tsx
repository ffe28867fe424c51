import { useTranslation } from 'react-i18next';
import { shortHash } from '../lib/format';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';
import { ErrorNote, Mono } from './ui';

/** The ledger's last blocks: lets anyone watch their actions become committed transactions. */
export function LedgerPanel({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const { api } = useSession();
  const { data, error } = usePoll(() => api.ledger(), 3000, [api]);
  const blocks = [...(data?.blocks ?? [])].sort((a, b) => b.number - a.number);

  return (
    <div className="dropdown ledger-panel" data-testid="ledger-panel">
      <div className="dropdown-head">
        <strong>{t('ledger.title')}</strong>
        {data && <span className="muted">{t('ledger.height', { height: data.height })}</span>}
        <button type="button" className="btn btn-small btn-ghost-dark" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
      <ErrorNote error={error} />
      <table className="table table-compact">
        <thead>
          <tr>
            <th>{t('ledger.number')}</th>
            <th>{t('ledger.hash')}</th>
            <th className="num">{t('ledger.txCount')}</th>
          </tr>
        </thead>
        <tbody>
          {blocks.map((b) => (
            <tr key={b.number}>
              <td>#{b.number}</td>
              <td>
                <Mono title={b.hash}>{shortHash(b.hash, 10)}</Mono>
              </td>
              <td className="num">{b.txCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
