import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../lib/format';

export function Card({
  title,
  actions,
  children,
  testId,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <section className="card" data-testid={testId}>
      {(title || actions) && (
        <header className="card-header">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      <div className="card-body">{children}</div>
    </section>
  );
}

export function PageTitle({ title, intro }: { title: string; intro: string }) {
  return (
    <div className="page-title">
      <h1>{title}</h1>
      <p>{intro}</p>
    </div>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <p className="note note-error" role="alert">
      {t('common.error')}: {errorMessage(error)}
    </p>
  );
}

export function Empty({ loading }: { loading?: boolean }) {
  const { t } = useTranslation();
  return <p className="empty">{loading ? t('common.loading') : t('common.none')}</p>;
}

export type Tone = 'neutral' | 'info' | 'good' | 'warn' | 'bad';

export function Badge({ tone, children, testId }: { tone: Tone; children: ReactNode; testId?: string }) {
  return (
    <span className={`badge badge-${tone}`} data-testid={testId}>
      {children}
    </span>
  );
}

export function Progress({ value, max }: { value: number; max: number }) {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <span className="progress" title={`${pct}%`}>
      <span className="progress-bar" style={{ width: `${pct}%` }} />
    </span>
  );
}

export function Mono({ children, title }: { children: ReactNode; title?: string }) {
  return (
    <code className="mono" title={title}>
      {children}
    </code>
  );
}
