import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { type ApiClient, createApiClient, type User } from '../api';

const TOKEN_KEY = 'c2m.token';
const REFRESH_KEY = 'c2m.refresh';
const USER_KEY = 'c2m.user';

interface Session {
  user: User | null;
  api: ApiClient;
  login: (username: string, password: string) => Promise<User>;
  logout: () => void;
}

const SessionContext = createContext<Session | null>(null);

// The token lives in sessionStorage: it survives a reload but not closing the tab,
// and is never shared between tabs logged in as different demo users.
function readStored(): { token: string | null; user: User | null } {
  try {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const raw = sessionStorage.getItem(USER_KEY);
    return { token, user: token && raw ? (JSON.parse(raw) as User) : null };
  } catch {
    return { token: null, user: null };
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState(readStored);

  const clear = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
    sessionStorage.removeItem(USER_KEY);
    setState({ token: null, user: null });
  }, []);

  const api = useMemo(() => {
    // Access tokens live minutes; the refresh token (single use) renews them while the session lasts. One
    // renewal at a time: polls that fail together share it instead of spending the refresh token twice.
    const bare = createApiClient({ getToken: () => null });
    let renewing: Promise<boolean> | null = null;
    const refreshSession = () => {
      renewing ??= (async () => {
        const refreshToken = sessionStorage.getItem(REFRESH_KEY);
        if (!refreshToken) return false;
        try {
          const res = await bare.refresh({ refreshToken });
          sessionStorage.setItem(TOKEN_KEY, res.token);
          sessionStorage.setItem(REFRESH_KEY, res.refreshToken);
          return true;
        } catch {
          return false;
        }
      })().finally(() => {
        renewing = null;
      });
      return renewing;
    };
    return createApiClient({
      getToken: () => sessionStorage.getItem(TOKEN_KEY),
      refreshSession,
      onUnauthorized: () => {
        if (sessionStorage.getItem(TOKEN_KEY)) clear();
      },
    });
  }, [clear]);

  const login = useCallback(
    async (username: string, password: string) => {
      const res = await api.login({ username, password });
      sessionStorage.setItem(TOKEN_KEY, res.token);
      sessionStorage.setItem(REFRESH_KEY, res.refreshToken);
      sessionStorage.setItem(USER_KEY, JSON.stringify(res.user));
      setState({ token: res.token, user: res.user });
      return res.user;
    },
    [api],
  );

  const logout = useCallback(() => {
    // The server ends the session (its tokens stop working) even if this tab's storage were copied.
    api.logout().catch(() => undefined);
    clear();
  }, [api, clear]);

  const value = useMemo<Session>(() => ({ user: state.user, api, login, logout }), [state.user, api, login, logout]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** Only inside the logged-in part of the app. */
export function useUser(): User {
  const { user } = useSession();
  if (!user) throw new Error('useUser without a logged-in user');
  return user;
}
