// Publisher process of the ingest benchmark: replays pre-signed device messages
// over several MQTT connections, QoS 1, each with a window of unacknowledged
// publishes. A device always uses the same connection, so its sequence
// numbers reach the broker in order.
// It runs as its own process so its CPU time is measured apart from the ingest's.
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';

const { mqttUrl, connections, window, messages } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const parentPort = { postMessage: (m) => process.send(m) };
const clients = await Promise.all(
  Array.from({ length: connections }, (_, i) =>
    mqtt.connectAsync(mqttUrl, {
      clientId: `c2m-bench-pub-${process.pid}-${i}`,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 500,
    }),
  ),
);
const lanes = clients.map(() => []);
for (const m of messages) lanes[m.lane % connections].push(m);

let acked = 0;
const started = performance.now();
const timer = setInterval(() => parentPort.postMessage({ kind: 'progress', acked }), 250);
await Promise.all(
  clients.map(async (client, i) => {
    const lane = lanes[i];
    let next = 0;
    const inflight = new Set();
    while (next < lane.length || inflight.size > 0) {
      while (next < lane.length && inflight.size < window) {
        const m = lane[next++];
        const p = client.publishAsync(m.topic, m.payload, { qos: 1 }).then(() => {
          acked++;
          inflight.delete(p);
        });
        inflight.add(p);
      }
      await Promise.race(inflight);
    }
  }),
);
clearInterval(timer);
const seconds = (performance.now() - started) / 1000;
await Promise.all(clients.map((c) => c.endAsync()));
parentPort.postMessage({ kind: 'done', acked, seconds });
process.disconnect();
