import { demoUsers } from '@c2m/identity';
import { CodedError, ErrorCodes, Orgs, Roles } from '@c2m/shared';
import type { Logger } from 'pino';
import type { Accounts } from './accounts.js';
import { assertAcceptablePassword, KNOWN_DEFAULT_PASSWORDS } from './password-policy.js';

export interface BootstrapOptions {
  readonly demo: boolean;
  readonly adminUser: string;
  readonly adminPassword?: string;
}

/**
 * Makes the accounts fit the mode before the platform serves anything. Demo mode: the demo users exist with
 * password `demo`. Otherwise: no enabled demo user may still have password `demo` (a data dir once run as the
 * demo), and a platform administrator must exist, created here from `C2M_ADMIN_PASSWORD` on first start, or
 * beforehand with `bootstrap-admin` (`cli/bootstrap-admin.ts`); else the platform refuses to start.
 */
export async function prepareAccounts(accounts: Accounts, options: BootstrapOptions, logger: Logger): Promise<void> {
  if (options.demo) {
    for (const seed of demoUsers) {
      if (await accounts.get(seed.username)) continue;
      await accounts.create(
        {
          username: seed.username,
          mspId: seed.mspId,
          role: seed.role,
          displayName: seed.displayName,
          password: 'demo',
        },
        'demo',
        { skipPolicy: true },
      );
    }
    logger.warn(
      { users: demoUsers.map((u) => u.username) },
      'DEMO MODE: demo users exist with password "demo"; never run a reachable platform this way',
    );
    return;
  }

  for (const seed of demoUsers) {
    const account = await accounts.get(seed.username);
    if (!account || account.disabled) continue;
    for (const known of KNOWN_DEFAULT_PASSWORDS) {
      if (known !== 'demo' && known !== seed.username) continue;
      if (await accounts.passwordIs(seed.username, known)) {
        throw new CodedError(
          ErrorCodes.INVALID_STATE,
          `refusing to start outside demo mode: user ${seed.username} still has the default password. ` +
            'Start with --demo, or reset or disable that user (as an administrator, in demo mode or with bootstrap-admin)',
          500,
        );
      }
    }
  }

  if ((await accounts.countPlatformAdmins()) > 0) {
    if (options.adminPassword) logger.info('C2M_ADMIN_PASSWORD is ignored: a platform administrator exists');
    return;
  }
  if (!options.adminPassword) {
    throw new CodedError(
      ErrorCodes.INVALID_STATE,
      'refusing to start: no platform administrator exists. Set C2M_ADMIN_PASSWORD (and optionally C2M_ADMIN_USER) ' +
        'for the first start, run `node services/dist/src/cli/bootstrap-admin.js`, or start the demo with --demo',
      500,
    );
  }
  assertAcceptablePassword(options.adminPassword, options.adminUser);
  await accounts.create(
    {
      username: options.adminUser,
      mspId: Orgs.platform,
      role: Roles.admin,
      displayName: 'Platform administrator',
      password: options.adminPassword,
    },
    'bootstrap',
  );
  logger.info({ username: options.adminUser }, 'platform administrator created from C2M_ADMIN_PASSWORD');
}
