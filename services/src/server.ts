import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { loadDemo } from './demo/demo-data.js';
import { openPlatform } from './platform.js';

// Boots the platform and its HTTP app; everything else lives in platform.ts and app.ts.
const config = loadConfig(process.argv.includes('--demo') ? { demo: true } : {});
const demo = config.demo;
const platform = await openPlatform(config).catch((err: Error) => {
  // Refusals to start (no administrator, a default password) are instructions for the operator, not crashes.
  console.error(`C2M platform did not start: ${err.message}`);
  process.exit(1);
});
const app = await buildApp(platform);

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  else app.log.info({ signal }, 'shutting down');
  await app.close();
  await platform.close();
});

const address = await app.listen({ port: config.port, host: config.host });
app.log.info({ address, ledger: config.ledger, dataDir: config.dataDir }, 'C2M platform listening');

if (demo) {
  loadDemo({ baseUrl: address, platform })
    .then((summary) => {
      app.log.info(
        summary,
        `demo ready: open ${address} and sign in as brand, factory1, factory2, certifier, financier or platform (an administrator), password demo`,
      );
    })
    .catch((err) => app.log.error({ err }, 'demo data failed to load'));
}
