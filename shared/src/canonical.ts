/**
 * Deterministic JSON: object keys sorted, no whitespace, `undefined` members
 * dropped. Used for every ledger state write, every signed device message and
 * every Merkle leaf, so the same value always gives the same bytes.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value);
}

function serialise(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : serialise(v))).join(',')}]`;
      const toJson = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJson === 'function') return serialise(toJson.call(value));
      const keys = Object.keys(value as object).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined || typeof v === 'function') continue;
        parts.push(`${JSON.stringify(k)}:${serialise(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
  }
}
