import { randomBytes, type ScryptOptions, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

// N=2^15, r=8: 32 MiB and about 0.1 s per check here. OWASP suggests N=2^17 (128 MiB per concurrent login);
// raise it where hosts have the memory. Hashes carry their parameters, so old ones keep verifying.
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
// Bounds what a stored hash may ask for, so a corrupted users file cannot make a login allocate gigabytes.
const MAX_N = 2 ** 20;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url), self-describing so parameters can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS, KEY_LENGTH);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  readonly salt: Buffer;
  readonly expected: Buffer;
  readonly options: ScryptOptions;
}

/** The parameters of an encoded hash, or undefined when it is malformed or asks for too much. */
function parseHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (!(N > 1 && N <= MAX_N && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return undefined;
  return { salt, expected, options: { N, r, p, maxmem: 256 * N * r + 1024 * 1024 } };
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const actual = await derive(password, parsed.salt, parsed.options, parsed.expected.length);
  return timingSafeEqual(actual, parsed.expected);
}

/**
 * Synchronous forms, for worker threads that own their CPU (services' password pool): the async forms run on
 * libuv's four-thread pool, which file writes (the ledger's O_DSYNC appends) share, so a burst of logins there
 * stalls the ledger. Never call these on a thread that serves requests.
 */
export function hashPasswordSync(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize('NFC'), salt, KEY_LENGTH, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export function verifyPasswordSync(password: string, encoded: string): boolean {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const actual = scryptSync(password.normalize('NFC'), parsed.salt, parsed.expected.length, parsed.options);
  return timingSafeEqual(actual, parsed.expected);
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time a real check takes, so unknown usernames cannot be told apart by response time. Pass an
 * existing user's hash when there is one: checking against it costs exactly what a real login costs.
 */
export async function burnPasswordCheck(password: string, someHash?: string): Promise<void> {
  if (someHash === undefined) dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, someHash ?? (await dummyHash!));
}
