#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openIdentityStore } from '@c2m/identity';
import { writeBrokerMaterial } from './broker-material.js';

/*
 * Writes the Mosquitto TLS material and ACLs for services/mosquitto/mosquitto.conf:
 *
 *   node services/dist/src/iot/broker-material-cli.js --identity .data/identity --out /etc/mosquitto/c2m \
 *     --host broker.example.com [--host ...] [--ip 10.0.0.5]
 */
const { values } = parseArgs({
  options: {
    identity: { type: 'string', default: path.resolve('.data/identity') },
    out: { type: 'string', default: '/etc/mosquitto/c2m' },
    host: { type: 'string', multiple: true },
    ip: { type: 'string', multiple: true },
  },
});

const identity = await openIdentityStore({ dataDir: values.identity as string });
const written = await writeBrokerMaterial(identity, values.out as string, {
  dnsNames: values.host ?? ['localhost'],
  ipAddresses: values.ip ?? ['127.0.0.1'],
});
process.stdout.write(`broker material written to ${written.dir}\n`);
