import { parseArgs } from 'node:util';
import { demoUsers } from '@c2m/identity';
import { Orgs, Roles } from '@c2m/shared';
import pino from 'pino';
import { createAccounts } from '../auth/accounts.js';
import { createPasswordPool } from '../auth/password-pool.js';
import { createSessions, RevokeReasons } from '../auth/sessions.js';
import { loadConfig } from '../config.js';
import { createPool, ensureDatabase, migrate } from '../db/database.js';
import { loadFabricConnection, openPlatformIdentity } from '../ledger/open-ledger.js';

// Creates the platform administrator, or resets and re-enables it, on the database and data dir the
// environment names (the same variables as the platform). The password comes from C2M_ADMIN_PASSWORD or,
// when that is unset, the first line of standard input, so it never has to appear in a command line.
//   echo "$SECRET" | node services/dist/src/cli/bootstrap-admin.js [--user admin] [--disable-demo-users]
const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    'disable-demo-users': { type: 'boolean', default: false },
  },
});
const config = loadConfig({ demo: false });
const username = values.user ?? config.adminUser;
const logger = pino({ level: config.logLevel });

const password = config.adminPassword ?? (await firstLineOfStdin());
if (!password) {
  logger.error('no password: set C2M_ADMIN_PASSWORD or pipe it on standard input');
  process.exit(2);
}

await ensureDatabase(config.databaseUrl);
await migrate(config.databaseUrl, (msg) => logger.debug(msg));
const pool = createPool(config.databaseUrl);
const passwords = createPasswordPool({ threads: 1, maxQueue: 8 });
try {
  const identity = await openPlatformIdentity(config, await loadFabricConnection(config), logger);
  const accounts = createAccounts({ pool, identity, passwords });
  const sessions = createSessions({ pool, ttlSec: config.sessionTtlSec });
  const existing = await accounts.get(username);
  if (!existing) {
    await accounts.create(
      { username, mspId: Orgs.platform, role: Roles.admin, displayName: 'Platform administrator', password },
      'bootstrap-admin',
    );
    logger.info({ username }, 'platform administrator created');
  } else if (existing.mspId !== Orgs.platform || existing.role !== Roles.admin) {
    logger.error(
      { username, mspId: existing.mspId, role: existing.role },
      'that user exists and is not a platform admin',
    );
    process.exitCode = 1;
  } else {
    await accounts.setPassword(username, password);
    await accounts.setDisabled(username, false);
    await sessions.revokeAll(username, RevokeReasons.passwordReset);
    logger.info({ username }, 'platform administrator password reset and enabled; its sessions ended');
  }
  if (values['disable-demo-users'] && process.exitCode !== 1) {
    for (const seed of demoUsers) {
      if (seed.username === username || !(await accounts.get(seed.username))) continue;
      await accounts.setDisabled(seed.username, true);
      await sessions.revokeAll(seed.username, RevokeReasons.disabled);
      logger.info({ username: seed.username }, 'demo user disabled');
    }
  }
} catch (err) {
  logger.error({ err }, 'bootstrap failed');
  process.exitCode = 1;
} finally {
  await passwords.close();
  await pool.end();
}

async function firstLineOfStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] || undefined;
}
