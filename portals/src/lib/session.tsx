import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { type ApiClient, createApiClient, type User } from '../api';

const TOKEN_KEY = 'c2m.token';
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
    sessionStorage.removeItem(USER_KEY);
    setState({ token: null, user: null });
  }, []);

  const api = useMemo(
    () =>
      createApiClient({
        getToken: () => sessionStorage.getItem(TOKEN_KEY),
        onUnauthorized: () => {
          if (sessionStorage.getItem(TOKEN_KEY)) clear();
        },
      }),
    [clear],
  );

  const login = useCallback(
    async (username: string, password: string) => {
      const res = await api.login({ username, password });
      sessionStorage.setItem(TOKEN_KEY, res.token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(res.user));
      setState({ token: res.token, user: res.user });
      return res.user;
    },
    [api],
  );

  const value = useMemo<Session>(
    () => ({ user: state.user, api, login, logout: clear }),
    [state.user, api, login, clear],
  );
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
