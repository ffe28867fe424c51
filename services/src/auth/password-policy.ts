import { CodedError, ErrorCodes } from '@c2m/shared';

/**
 * Passwords that are published somewhere (the demo's, installers' favourites). Outside demo mode the platform
 * refuses them for any account and refuses to start while one is in use.
 */
export const KNOWN_DEFAULT_PASSWORDS: ReadonlySet<string> = new Set([
  'demo',
  'admin',
  'password',
  'changeme',
  'change-me',
  'c2m',
  'platform',
  '123456',
  '12345678',
  '123456789',
  'password1',
  'admin123',
  'qwerty',
  'letmein',
]);

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Throws `VALIDATION_FAILED` saying why a new password is refused. */
export function assertAcceptablePassword(password: string, username: string): void {
  const fail = (why: string) => new CodedError(ErrorCodes.VALIDATION_FAILED, `password refused: ${why}`, 400);
  const lower = password.normalize('NFC').toLowerCase();
  if (KNOWN_DEFAULT_PASSWORDS.has(lower)) throw fail('it is a known default password');
  if ([...password].length < MIN_PASSWORD_LENGTH) throw fail(`it must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw fail(`it must have at most ${MAX_PASSWORD_LENGTH} characters`);
  if (lower.includes(username.toLowerCase())) throw fail('it contains the username');
  if (new Set(password).size < 4) throw fail('it has fewer than 4 different characters');
}
