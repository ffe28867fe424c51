import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { signPossessionChallenge } from '../src/iot/possession.js';
import { loadOrCreateDevice, type SimulatedDevice } from '../src/iot/simulator.js';
import { demoTokens, type TestPlatform, waitFor } from './helpers.js';

/** A free TCP port on 127.0.0.1 (released before use; fine for a test). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, up: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open === up) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not ${up ? 'open' : 'close'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A server process of the test's own (Mosquitto, Redis) on its own port, so
 * restarting it disturbs no other test. `restart()` stops it gracefully (it
 * saves its state, as a production restart does) and starts it again.
 */
export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  restart(): Promise<void>;
  /** kill -9, then start again: whatever it had not saved is gone. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

async function privateServer(scheme: string, command: string, args: string[], port: number): Promise<PrivateServer> {
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(command, args, { stdio: 'ignore' });
    await waitForPort(port, true);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
    await waitForPort(port, false);
  };
  await start();
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    async restart() {
      await stop();
      await start();
    },
    async crash() {
      const c = child;
      child = undefined;
      if (c && c.exitCode === null) {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await exited;
        await waitForPort(port, false);
      }
      await start();
    },
    stop,
  };
}

/**
 * Mosquitto with persistence and no queue limit (see bench/ingest/mosquitto.conf.template). `autosaveSeconds`
 * is how often it saves its store (Mosquitto's default, 1800 s, unless given; production uses 60).
 */
export async function startMosquitto(
  options: { autosaveSeconds?: number } = {},
): Promise<PrivateServer & { dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-mosq-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Started as root, Mosquitto would switch to the mosquitto user, which cannot write to our
      // temp dir: its persistence file would silently not be saved, and a restart would lose messages.
      `user ${os.userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 0',
      ...(options.autosaveSeconds ? [`autosave_interval ${options.autosaveSeconds}`] : []),
      `log_dest file ${dir}/mosquitto.log`,
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      '',
    ].join('\n'),
  );
  return { ...(await privateServer('mqtt', 'mosquitto', ['-c', conf], port)), dir };
}

/**
 * Redis with an append-only file, so BullMQ's job schedulers survive its restart; `persist: false` keeps
 * nothing, as the machines' shared Redis once ran, so a restart comes back empty.
 */
export async function startRedis(options: { persist?: boolean } = {}): Promise<PrivateServer & { dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'c2m-redis-'));
  const port = await freePort();
  const aof = options.persist === false ? 'no' : 'yes';
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', aof, '--save', ''];
  return { ...(await privateServer('redis', 'redis-server', args, port)), dir };
}

export async function login(t: TestPlatform, username: string): Promise<{ Authorization: string }> {
  const tokens = await demoTokens(t, [username]);
  return { Authorization: `Bearer ${tokens[username]}` };
}

/**
 * Registers devices as a factory user through the API (CSR → factory CA →
 * ledger) and, unless `certify` is false, certifies them as the certifier
 * with a proof of possession.
 */
export async function provisionDevices(
  t: TestPlatform,
  names: readonly string[],
  options: { factoryUser?: string; certify?: boolean } = {},
): Promise<SimulatedDevice[]> {
  const factory = await login(t, options.factoryUser ?? 'factory1');
  const certifier = await login(t, 'certifier');
  const me = await request(t.app.server).get('/api/me').set(factory);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'c2m-devs-'));
  const out: SimulatedDevice[] = [];
  for (const name of names) {
    const mspId = (me.body?.mspId as string | undefined) ?? 'Factory1Org';
    const { device, csrPem } = await loadOrCreateDevice(stateDir, name, mspId);
    const reg = await request(t.app.server)
      .post('/api/devices')
      .set(factory)
      .send({ deviceId: name, model: 'Lonati GK616', serial: `SN-${name}`, line: 'line-1', csrPem })
      .expect(201);
    const registered: SimulatedDevice = { ...device, factoryMspId: reg.body.device.factoryMspId };
    if (options.certify !== false) await certify(t, registered, certifier);
    out.push(registered);
  }
  return out;
}

/**
 * One device on line-1 for each demo factory, registered and certified as above: dispatch offers work only to
 * a factory with a certified device on a line, so a test that posts orders first gives both factories one.
 * Returns the devices by factory user (`factory1`, `factory2`); ids are `<user>-<name>`.
 */
export async function certifiedDevicePerFactory(
  t: TestPlatform,
  name: string,
): Promise<Record<string, SimulatedDevice>> {
  const out: Record<string, SimulatedDevice> = {};
  for (const user of ['factory1', 'factory2']) {
    const [device] = await provisionDevices(t, [`${user}-${name}`], { factoryUser: user });
    out[user] = device as SimulatedDevice;
  }
  return out;
}

export async function certify(
  t: TestPlatform,
  device: SimulatedDevice,
  certifier?: { Authorization: string },
): Promise<void> {
  const as = certifier ?? (await login(t, 'certifier'));
  const c = await request(t.app.server).post(`/api/devices/${device.deviceId}/challenges`).set(as).send({}).expect(201);
  await request(t.app.server)
    .post(`/api/devices/${device.deviceId}/certify`)
    .set(as)
    .send({
      challengeId: c.body.challengeId,
      signature: signPossessionChallenge(device.privateKey, device.deviceId, c.body.challenge),
      note: 'calibrated',
    })
    .expect(200);
}

export async function deviceAction(
  t: TestPlatform,
  deviceId: string,
  action: 'suspend' | 'reactivate' | 'revoke',
): Promise<void> {
  const as = await login(t, 'certifier');
  await request(t.app.server).post(`/api/devices/${deviceId}/${action}`).set(as).send({ note: 'test' }).expect(200);
}

/**
 * The brand posts a one-line order; whichever factory dispatch offers it to accepts it (the work order is
 * committed on the ledger). Dispatch needs a factory with a certified device first (`certifiedDevicePerFactory`).
 * Returns that factory's user and token, the order and the work order.
 */
export async function acceptedWorkOrder(
  t: TestPlatform,
  product: string,
  quantity: number,
): Promise<{ orderId: string; workOrderId: string; factoryUser: string; factory: { Authorization: string } }> {
  const brand = await login(t, 'brand');
  const order = await request(t.app.server)
    .post('/api/orders')
    .set(brand)
    .send({
      product,
      lines: [{ sku: `${product.slice(0, 3).toUpperCase()}-1`, quantity }],
      targetPriceMinor: 900,
      currency: 'CNY',
      dueDate: '2027-03-01',
      shipTo: 'DC',
    })
    .expect(201);
  const { user, offer } = await waitFor('an offer', async () => {
    for (const u of ['factory1', 'factory2']) {
      const res = await request(t.app.server)
        .get('/api/offers?status=open')
        .set(await login(t, u));
      const o = res.body.items?.find((x: { orderId: string }) => x.orderId === order.body.id);
      if (o) return { user: u, offer: o };
    }
    return undefined;
  });
  const factory = await login(t, user);
  const accepted = await request(t.app.server).post(`/api/offers/${offer.id}/accept`).set(factory).expect(200);
  return { orderId: order.body.id, workOrderId: accepted.body.workOrder.id, factoryUser: user, factory };
}
