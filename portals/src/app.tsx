import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Header } from './components/header';
import { OrgsProvider } from './components/org-name';
import { type Portal, Portals, portalFor, useHashRoute } from './lib/router';
import { useSession } from './lib/session';
import { AllocationPage } from './pages/allocation-page';
import { BrandPortal } from './pages/brand-portal';
import { CertifierPortal } from './pages/certifier-portal';
import { ConsumerPage, consumerRoute } from './pages/consumer-page';
import { EpcisPage } from './pages/epcis-page';
import { FactoryPortal } from './pages/factory-portal';
import { FactoryProfilePage } from './pages/factory-profile-page';
import { FinancierPortal } from './pages/financier-portal';
import { ForecastPage } from './pages/forecast-page';
import { LabelsPage } from './pages/labels-page';
import { LoginPage } from './pages/login-page';
import { PlatformPortal } from './pages/platform-portal';
import { TracePage } from './pages/trace-page';

const pages: Record<Portal, () => React.JSX.Element> = {
  brand: BrandPortal,
  factory: FactoryPortal,
  certifier: CertifierPortal,
  financier: FinancierPortal,
  platform: PlatformPortal,
};

function LoggedIn() {
  const { user } = useSession();
  const [route, navigate] = useHashRoute();
  const home = user ? portalFor(user) : 'brand';
  // A portal's own sub-pages (only the brand's forecasts so far) are `#/{portal}/{page}`.
  const subPages: Partial<Record<string, () => React.JSX.Element>> =
    home === 'brand'
      ? { forecast: ForecastPage, allocations: AllocationPage, events: EpcisPage, trace: TracePage }
      : home === 'factory'
        ? { profile: FactoryProfilePage, events: EpcisPage, labels: LabelsPage }
        : home === 'financier'
          ? { events: EpcisPage }
          : {};
  const sub = route.startsWith(`${home}/`) ? route.slice(home.length + 1) : '';
  const SubPage = subPages[sub];

  // A user has exactly one portal: the API would refuse the others' data anyway,
  // so any other hash (a bookmark from another user, a typo) lands on the user's own.
  useEffect(() => {
    if (route !== home && !SubPage) navigate(home);
  }, [route, home, navigate, SubPage]);

  const Page =
    SubPage ?? pages[(Portals as readonly string[]).includes(route) && route === home ? (route as Portal) : home];
  return (
    <OrgsProvider>
      <Header />
      <main className="main">
        {home === 'brand' && <BrandNav current={sub} />}
        {home === 'factory' && <FactoryNav current={sub} />}
        {home === 'financier' && <FinancierNav current={sub} />}
        <Page />
      </main>
    </OrgsProvider>
  );
}

function BrandNav({ current }: { current: string }) {
  const { t } = useTranslation();
  return (
    <nav data-testid="brand-nav" style={{ display: 'flex', gap: '1.25rem', marginBottom: '0.75rem' }}>
      <a href="#/brand" style={{ fontWeight: current === '' ? 600 : 400 }}>
        {t('forecast.navOrders')}
      </a>
      <a href="#/brand/forecast" style={{ fontWeight: current === 'forecast' ? 600 : 400 }} data-testid="nav-forecast">
        {t('forecast.nav')}
      </a>
      <a
        href="#/brand/allocations"
        style={{ fontWeight: current === 'allocations' ? 600 : 400 }}
        data-testid="nav-allocations"
      >
        {t('dispatch.allocNav')}
      </a>
      <a href="#/brand/events" style={{ fontWeight: current === 'events' ? 600 : 400 }} data-testid="nav-events">
        {t('epcis.nav')}
      </a>
      <a href="#/brand/trace" style={{ fontWeight: current === 'trace' ? 600 : 400 }} data-testid="nav-trace">
        {t('trace.nav')}
      </a>
    </nav>
  );
}

function FactoryNav({ current }: { current: string }) {
  const { t } = useTranslation();
  return (
    <nav data-testid="factory-nav" style={{ display: 'flex', gap: '1.25rem', marginBottom: '0.75rem' }}>
      <a href="#/factory" style={{ fontWeight: current === '' ? 600 : 400 }}>
        {t('factory.openOffers')}
      </a>
      <a href="#/factory/profile" style={{ fontWeight: current === 'profile' ? 600 : 400 }} data-testid="nav-profile">
        {t('dispatch.profileNav')}
      </a>
      <a href="#/factory/events" style={{ fontWeight: current === 'events' ? 600 : 400 }} data-testid="nav-events">
        {t('epcis.nav')}
      </a>
      <a href="#/factory/labels" style={{ fontWeight: current === 'labels' ? 600 : 400 }} data-testid="nav-labels">
        {t('labels.nav')}
      </a>
    </nav>
  );
}

function FinancierNav({ current }: { current: string }) {
  const { t } = useTranslation();
  return (
    <nav data-testid="financier-nav" style={{ display: 'flex', gap: '1.25rem', marginBottom: '0.75rem' }}>
      <a href="#/financier" style={{ fontWeight: current === '' ? 600 : 400 }}>
        {t('financier.verify')}
      </a>
      <a href="#/financier/events" style={{ fontWeight: current === 'events' ? 600 : 400 }} data-testid="nav-events">
        {t('epcis.nav')}
      </a>
    </nav>
  );
}

export function App() {
  const { user } = useSession();
  // The public product page (a consumer's QR scan), no login: a path, not a hash route.
  const consumer = consumerRoute(window.location.pathname);
  if (consumer) return <ConsumerPage gtin={consumer.gtin} serial={consumer.serial} />;
  if (!user) {
    return (
      <>
        <Header />
        <main className="main">
          <LoginPage />
        </main>
      </>
    );
  }
  return <LoggedIn key={user.username} />;
}
