import { randomBytes } from 'node:crypto';

/** Sortable, readable ids: prefix, UTC date, random suffix (e.g. `ORD-20261128-3f9a1c2b`). */
export function newId(prefix: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `${prefix}-${day}-${randomBytes(4).toString('hex')}`;
}
