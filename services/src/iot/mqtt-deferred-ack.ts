import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';

/** Acknowledges one received QoS 1 message; a no-op if the connection it came on is gone. */
export type Ack = () => void;

interface PacketSender {
  _sendPacket(packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]): void;
}

/**
 * An mqtt.js client whose PUBACKs the application sends when it chooses.
 *
 * mqtt.js's own `customHandleAcks` cannot batch: its packet loop handles the
 * next PUBLISH only after the previous PUBACK was written, so holding acks
 * until a batch is durable would let one message through at a time. Here the
 * loop moves on at once and the PUBACK mqtt.js would have sent is dropped;
 * `ack()` writes it later. An ack for a message received on an earlier
 * connection is skipped: with a persistent session the broker redelivers that
 * message, and the ingest acknowledges the redelivery as a duplicate.
 */
export function connectWithDeferredAcks(
  url: string,
  options: IClientOptions,
  onMessage: (topic: string, payload: Buffer, ack: Ack) => void,
): MqttClient {
  const client = mqtt.connect(url, { ...options, customHandleAcks: (_t, _m, _p, done) => done(0) });
  const sender = client as unknown as PacketSender;
  const send = sender._sendPacket.bind(client);
  const ours = new WeakSet<Packet>();
  sender._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === 'puback' && !ours.has(packet)) {
      cb?.();
      return;
    }
    send(packet, cb, ...rest);
  };
  let connection = 0;
  client.on('connect', () => {
    connection++;
  });
  client.on('message', (topic, payload, packet) => {
    const messageId = packet.messageId;
    const on = connection;
    const ack: Ack =
      packet.qos === 1 && messageId !== undefined
        ? () => {
            if (on !== connection || !client.connected) return;
            const puback: Packet = { cmd: 'puback', messageId, reasonCode: 0 };
            ours.add(puback);
            send(puback);
          }
        : () => {};
    onMessage(topic, payload, ack);
  });
  return client;
}
