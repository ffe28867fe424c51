import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { sha256 } from './protos.js';

/**
 * An append-only file of records: [u32 length][32-byte SHA-256 of body][body].
 * A record is durable once `append` resolves (written through O_DSYNC). On
 * open, a torn last record (a crash mid-write) is cut off; a damaged record
 * followed by more data is corruption, not a crash, and is refused.
 */
export class RecordFileCorruptError extends Error {
  override readonly name = 'RecordFileCorruptError';
}

const HEADER = 4 + 32;

export class RecordFile {
  readonly #handle: FileHandle;
  #size: number;

  private constructor(handle: FileHandle, size: number) {
    this.#handle = handle;
    this.#size = size;
  }

  /** Opens (creating if needed), returns the intact records and how many torn bytes were truncated. */
  static async open(path: string): Promise<{ file: RecordFile; records: Buffer[]; truncatedBytes: number }> {
    // O_DSYNC: a write returns once its data is on stable storage, as write + fdatasync would, in one
    // round trip through libuv's pool instead of two (each round trip also waits for a busy event loop).
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC);
    try {
      const data = await handle.readFile();
      const records: Buffer[] = [];
      let offset = 0;
      while (offset < data.length) {
        if (offset + HEADER > data.length) break;
        const len = data.readUInt32BE(offset);
        const end = offset + HEADER + len;
        if (end > data.length) break;
        const body = data.subarray(offset + HEADER, end);
        if (!sha256(body).equals(data.subarray(offset + 4, offset + HEADER))) {
          // A crash can leave a partly written or zero-filled tail; anything else is tampering or disk damage.
          if (end === data.length || data.subarray(offset).every((b) => b === 0)) break;
          throw new RecordFileCorruptError(`${path}: record at byte ${offset} fails its checksum`);
        }
        records.push(Buffer.from(body));
        offset = end;
      }
      const truncatedBytes = data.length - offset;
      if (truncatedBytes > 0) {
        await handle.truncate(offset);
        await handle.datasync();
      }
      return { file: new RecordFile(handle, offset), records, truncatedBytes };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async append(bodies: readonly Uint8Array[]): Promise<void> {
    if (bodies.length === 0) return;
    const parts: Buffer[] = [];
    for (const body of bodies) {
      const header = Buffer.alloc(HEADER);
      header.writeUInt32BE(body.length, 0);
      sha256(body).copy(header, 4);
      parts.push(header, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    }
    const buf = Buffer.concat(parts);
    let written = 0;
    while (written < buf.length) {
      const { bytesWritten } = await this.#handle.write(buf, written, buf.length - written, null);
      written += bytesWritten;
    }
    this.#size += buf.length;
  }

  get size(): number {
    return this.#size;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
