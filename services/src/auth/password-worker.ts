import { hashPasswordSync, verifyPasswordSync } from '@c2m/identity';

/** One password job; scrypt runs synchronously here, on this worker's own thread, never on libuv's pool. */
export type PasswordTask =
  | { readonly op: 'hash'; readonly password: string }
  | { readonly op: 'verify'; readonly password: string; readonly hash: string };

export default function run(task: PasswordTask): string | boolean {
  if (task.op === 'hash') return hashPasswordSync(task.password);
  return verifyPasswordSync(task.password, task.hash);
}
