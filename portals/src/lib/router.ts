import { useCallback, useEffect, useState } from 'react';
import type { User } from '../api';

export const Portals = ['brand', 'factory', 'certifier', 'financier', 'platform'] as const;
export type Portal = (typeof Portals)[number];

/** The one portal a user works in; the org kind decides, and within the platform org the role does. */
export function portalFor(user: User): Portal {
  switch (user.orgKind) {
    case 'brand':
      return 'brand';
    case 'factory':
      return 'factory';
    case 'finance':
      return 'financier';
    default:
      return user.role === 'certifier' ? 'certifier' : 'platform';
  }
}

// Hash routes, so the platform can serve index.html at `/` without an SPA fallback route.
function current(): string {
  return window.location.hash.replace(/^#\/?/, '');
}

export function useHashRoute(): [string, (route: string) => void] {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const on = () => setRoute(current());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const navigate = useCallback((r: string) => {
    window.location.hash = `/${r}`;
  }, []);
  return [route, navigate];
}
