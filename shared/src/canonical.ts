/**
 * Deterministic JSON: object keys sorted, no whitespace, `undefined` members
 * dropped. Used for every ledger state write, every signed device message and
 * every Merkle leaf, so the same value always gives the same bytes.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value);
}

// String concatenation rather than arrays joined: this runs for every ledger write, block and signed
// device message, and building a parts array per object doubled the cost of large values such as blocks.
function serialise(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          if (i > 0) out += ',';
          out += v === undefined ? 'null' : serialise(v);
        }
        return `${out}]`;
      }
      const toJson = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJson === 'function') return serialise(toJson.call(value));
      const keys = Object.keys(value as object).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined || typeof v === 'function') continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${serialise(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
  }
}
