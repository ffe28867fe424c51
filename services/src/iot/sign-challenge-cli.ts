#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signPossessionChallenge } from './possession.js';

/*
 * Answers a certifier's proof-of-possession challenge as the device: signs the
 * challenge text with the device key and prints the signature to paste into
 * the certifier portal. On real hardware the device firmware does this; the
 * key never leaves it. This tool is for simulated devices and bench setups.
 *
 *   node services/dist/src/iot/sign-challenge-cli.js --device F1-KNIT-007 --key device-key.pem --challenge "C2M-POP/1 ..."
 *   node services/dist/src/iot/sign-challenge-cli.js --device sim-0001 --state-dir .data/sim-devices < challenge.txt
 *
 * It signs nothing but a well-formed challenge naming this device.
 */
const { values } = parseArgs({
  options: {
    device: { type: 'string' },
    key: { type: 'string' },
    'state-dir': { type: 'string' },
    challenge: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const deviceId = values.device;
  if (!deviceId || (!values.key && !values['state-dir'])) {
    console.error(
      'usage: sign-challenge-cli --device <id> (--key <pkcs8.pem> | --state-dir <dir>) [--challenge <text>]',
    );
    process.exit(2);
  }
  const keyPem = values.key
    ? await readFile(values.key, 'utf8')
    : (
        JSON.parse(await readFile(path.join(values['state-dir'] as string, `${deviceId}.json`), 'utf8')) as {
          privateKeyPem: string;
        }
      ).privateKeyPem;
  let challenge = values.challenge;
  if (!challenge) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    challenge = Buffer.concat(chunks).toString('utf8');
  }
  process.stdout.write(`${signPossessionChallenge(keyPem, deviceId, challenge.trim())}\n`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
