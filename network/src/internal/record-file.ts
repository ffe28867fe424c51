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
  static async open(
    path: string,
  ): Promise<{ file: RecordFile; records: Buffer[]; offsets: number[]; truncatedBytes: number }> {
    // O_DSYNC: a write returns once its data is on stable storage, as write + fdatasync would, in one
    // round trip through libuv's pool instead of two (each round trip also waits for a busy event loop).
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC);
    try {
      const data = await handle.readFile();
      const records: Buffer[] = [];
      const offsets: number[] = [];
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
        offsets.push(offset);
        offset = end;
      }
      const truncatedBytes = data.length - offset;
      if (truncatedBytes > 0) {
        await handle.truncate(offset);
        await handle.datasync();
      }
      return { file: new RecordFile(handle, offset), records, offsets, truncatedBytes };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Appends records; returns the byte offset of each, for `read`. */
  async append(bodies: readonly Uint8Array[]): Promise<number[]> {
    if (bodies.length === 0) return [];
    const parts: Buffer[] = [];
    const offsets: number[] = [];
    let at = this.#size;
    for (const body of bodies) {
      offsets.push(at);
      at += HEADER + body.length;
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
    return offsets;
  }

  /** The record at a byte offset `append` or `open` gave, its checksum checked again. */
  async read(offset: number): Promise<Buffer> {
    const header = Buffer.alloc(HEADER);
    await this.#handle.read(header, 0, HEADER, offset);
    const body = Buffer.alloc(header.readUInt32BE(0));
    await this.#handle.read(body, 0, body.length, offset + HEADER);
    if (!sha256(body).equals(header.subarray(4))) {
      throw new RecordFileCorruptError(`record at byte ${offset} fails its checksum`);
    }
    return body;
  }

  get size(): number {
    return this.#size;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
