import { createContext, type ReactNode, useContext, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Org } from '../api';
import { useSession } from '../lib/session';
import { usePoll } from '../lib/use-poll';

const OrgsContext = createContext<Map<string, Org>>(new Map());

/** Loads /api/orgs once per session so tables can show "Factory 1" instead of "Factory1Org". */
export function OrgsProvider({ children }: { children: ReactNode }) {
  const { api } = useSession();
  const { data } = usePoll(() => api.orgs(), 0, [api]);
  const map = useMemo(() => new Map((data?.items ?? []).map((o) => [o.mspId, o])), [data]);
  return <OrgsContext.Provider value={map}>{children}</OrgsContext.Provider>;
}

/** The network's orgs (GET /api/orgs, loaded once per session), in the order the API lists them. */
export function useOrgs(): Org[] {
  const orgs = useContext(OrgsContext);
  return useMemo(() => [...orgs.values()], [orgs]);
}

export function useOrgName(): (mspId: string) => string {
  const orgs = useContext(OrgsContext);
  const { i18n } = useTranslation();
  const zh = i18n.language.startsWith('zh');
  return (mspId: string) => {
    const o = orgs.get(mspId);
    if (!o) return mspId;
    return (zh ? o.nameZh : o.name) || o.name || mspId;
  };
}

export function OrgName({ mspId }: { mspId: string }) {
  const name = useOrgName();
  return <span title={mspId}>{name(mspId)}</span>;
}
