import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads `load()` now and again every `intervalMs` (0 = once). Keeps the last good
 * data on a failed refresh so a blip does not blank the page, and never lets a slow
 * older response overwrite a newer one.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, deps: readonly unknown[] = []): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (e) {
      if (mine !== generation.current) return;
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps, passed through on purpose
  }, deps);

  useEffect(() => {
    setLoading(true);
    void reload();
    if (intervalMs <= 0)
      return () => {
        generation.current++;
      };
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') void reload();
    }, intervalMs);
    return () => {
      clearInterval(timer);
      generation.current++;
    };
  }, [reload, intervalMs]);

  return { data, error, loading, reload };
}
