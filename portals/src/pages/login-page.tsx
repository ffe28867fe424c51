import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../lib/format';
import { useSession } from '../lib/session';

const DemoUsers = ['brand', 'factory1', 'factory2', 'certifier', 'financier', 'platform'] as const;
const DEMO_PASSWORD = 'demo';

export function LoginPage() {
  const { t } = useTranslation();
  const { login } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function signIn(u: string, p: string) {
    setBusy(true);
    setError(undefined);
    try {
      await login(u, p);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void signIn(username.trim(), password);
  }

  return (
    <div className="login-wrap">
      <div className="login-hero">
        <h1>{t('app.title')}</h1>
        <p>{t('app.tagline')}</p>
        <ol className="flow">
          <li>{t('nav.brand')}</li>
          <li>{t('nav.factory')}</li>
          <li>{t('nav.certifier')}</li>
          <li>{t('nav.financier')}</li>
        </ol>
      </div>
      <div className="login-card card">
        <h2>{t('login.title')}</h2>
        <p className="muted">{t('login.intro')}</p>
        <form onSubmit={onSubmit} className="form" data-testid="login-form">
          <label className="field">
            <span>{t('login.username')}</span>
            <input
              data-testid="login-username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              required
            />
          </label>
          <label className="field">
            <span>{t('login.password')}</span>
            <input
              data-testid="login-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </label>
          <button type="submit" className="btn btn-primary" data-testid="login-submit" disabled={busy}>
            {t('login.submit')}
          </button>
        </form>
        {error && (
          <p className="note note-error" role="alert" data-testid="login-error">
            {t('login.failed', { message: error })}
          </p>
        )}
        <h3>{t('login.demoUsers')}</h3>
        <div className="demo-users">
          {DemoUsers.map((u) => (
            <button
              key={u}
              type="button"
              className="demo-user"
              data-testid={`demo-login-${u}`}
              disabled={busy}
              onClick={() => void signIn(u, DEMO_PASSWORD)}
            >
              <strong>{u}</strong>
              <span>{t(`login.demo.${u}`)}</span>
            </button>
          ))}
        </div>
      </div>
    </div>
  );
}
