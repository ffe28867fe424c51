/**
 * A minimal protobuf wire-format reader: enough to walk Fabric's Envelope,
 * Transaction, ProposalResponsePayload, SerializedIdentity and policy
 * messages in a browser without generated code. Fields are returned in wire
 * order; callers pick by number. Malformed input throws.
 */
export interface PbField {
  readonly field: number;
  readonly wire: 0 | 1 | 2 | 5;
  /** Varints (wire 0) as numbers; refused past 2^53. */
  readonly int: number;
  /** Length-delimited (wire 2) payload, or the 8/4 raw bytes of fixed types. */
  readonly bytes: Uint8Array;
}

export function readFields(buf: Uint8Array): PbField[] {
  const out: PbField[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (result > Number.MAX_SAFE_INTEGER) throw new Error('protobuf: varint too large');
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error('protobuf: varint too long');
  };
  const empty = new Uint8Array(0);
  while (pos < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Error('protobuf: field number 0');
    if (wire === 0) out.push({ field, wire, int: varint(), bytes: empty });
    else if (wire === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new Error('protobuf: truncated field');
      out.push({ field, wire, int: 0, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      if (pos + len > buf.length) throw new Error('protobuf: truncated fixed field');
      out.push({ field, wire, int: 0, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

/** The last occurrence of a length-delimited field (protobuf's rule for a repeated singular field), or empty. */
export function bytesField(fields: readonly PbField[], n: number): Uint8Array {
  let found: Uint8Array | undefined;
  for (const f of fields) {
    if (f.field !== n) continue;
    if (f.wire !== 2) throw new Error(`protobuf: field ${n} is not length-delimited`);
    found = f.bytes;
  }
  return found ?? new Uint8Array(0);
}

export function repeatedBytes(fields: readonly PbField[], n: number): Uint8Array[] {
  return fields.filter((f) => f.field === n && f.wire === 2).map((f) => f.bytes);
}

export function intField(fields: readonly PbField[], n: number): number {
  let v = 0;
  for (const f of fields) if (f.field === n && f.wire === 0) v = f.int;
  return v;
}

export function stringField(fields: readonly PbField[], n: number): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytesField(fields, n));
}
