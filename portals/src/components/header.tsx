import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type LanguageCode, Languages, setLanguage } from '../i18n';
import { en } from '../i18n/en';
import { useSession } from '../lib/session';
import { LedgerPanel } from './ledger-panel';
import { OrgName } from './org-name';

export function Header() {
  const { t, i18n } = useTranslation();
  const { user, logout } = useSession();
  const [ledgerOpen, setLedgerOpen] = useState(false);
  // Roles are open-ended on the wire; translate the ones we know, show the others as they are.
  const role = user?.role ?? '';
  const roleLabel = Object.hasOwn(en.roles, role) ? t(`roles.${role as keyof typeof en.roles}`) : role;

  return (
    <header className="app-header">
      <div className="brand-mark">
        <span className="logo">C2M</span>
        <span className="app-title">{t('app.title')}</span>
      </div>
      <div className="header-right">
        {user && (
          <div className="ledger-menu">
            <button
              type="button"
              className="btn btn-ghost"
              data-testid="ledger-toggle"
              aria-expanded={ledgerOpen}
              onClick={() => setLedgerOpen((o) => !o)}
            >
              <svg className="icon" viewBox="0 0 16 16" aria-hidden="true">
                <rect x="1" y="5" width="6" height="6" rx="1.5" />
                <rect x="9" y="5" width="6" height="6" rx="1.5" />
                <path d="M7 8h2" />
              </svg>
              {t('header.ledger')}
            </button>
            {ledgerOpen && <LedgerPanel onClose={() => setLedgerOpen(false)} />}
          </div>
        )}
        <label className="lang-switch">
          <span className="sr-only">{t('header.language')}</span>
          <select
            data-testid="language-select"
            value={i18n.language}
            onChange={(e) => setLanguage(e.target.value as LanguageCode)}
          >
            {Languages.map((l) => (
              <option key={l.code} value={l.code}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        {user && (
          <div className="who" data-testid="current-user">
            <span className="who-name">{user.displayName || user.username}</span>
            <span className="who-meta">
              <OrgName mspId={user.mspId} /> · {roleLabel}
            </span>
          </div>
        )}
        {user && (
          <button type="button" className="btn btn-ghost" data-testid="logout" onClick={logout}>
            {t('header.logout')}
          </button>
        )}
      </div>
    </header>
  );
}
