import { useEffect } from 'react';
import { Header } from './components/header';
import { OrgsProvider } from './components/org-name';
import { type Portal, Portals, portalFor, useHashRoute } from './lib/router';
import { useSession } from './lib/session';
import { BrandPortal } from './pages/brand-portal';
import { CertifierPortal } from './pages/certifier-portal';
import { FactoryPortal } from './pages/factory-portal';
import { FinancierPortal } from './pages/financier-portal';
import { LoginPage } from './pages/login-page';
import { PlatformPortal } from './pages/platform-portal';

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

  // A user has exactly one portal: the API would refuse the others' data anyway,
  // so any other hash (a bookmark from another user, a typo) lands on the user's own.
  useEffect(() => {
    if (route !== home) navigate(home);
  }, [route, home, navigate]);

  const Page = pages[(Portals as readonly string[]).includes(route) && route === home ? (route as Portal) : home];
  return (
    <OrgsProvider>
      <Header />
      <main className="main">
        <Page />
      </main>
    </OrgsProvider>
  );
}

export function App() {
  const { user } = useSession();
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
