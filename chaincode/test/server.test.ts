import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import { serverOptionsFromEnv, startChaincodeServer } from '../src/server.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('chaincode as a service', () => {
  it('listens and registers with a connecting peer under CHAINCODE_ID, as the ccaas builder expects', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const chaincodeId = `c2m_1.0:${'0f'.repeat(32)}`;
    const running = await startChaincodeServer(
      serverOptionsFromEnv({ CHAINCODE_SERVER_ADDRESS: address, CHAINCODE_ID: chaincodeId }),
    );
    // Dial it the way a peer does: the Chaincode/Connect stream, whose first message is the chaincode's REGISTER.
    const client = new peer.ChaincodeClient(address, grpc.credentials.createInsecure());
    try {
      const stream = client.connect();
      const first = await new Promise<peer.ChaincodeMessage>((resolve, reject) => {
        stream.once('data', resolve);
        stream.once('error', reject);
      });
      assert.equal(first.getType(), peer.ChaincodeMessage.Type.REGISTER);
      assert.equal(peer.ChaincodeID.deserializeBinary(first.getPayload_asU8()).getName(), chaincodeId);
      stream.cancel();
    } finally {
      client.close();
      await running.close();
    }
  });

  it('refuses to start without a listen address, a package id, or with half a TLS pair', () => {
    assert.throws(() => serverOptionsFromEnv({ CHAINCODE_ID: 'x' }), /CHAINCODE_SERVER_ADDRESS/);
    assert.throws(() => serverOptionsFromEnv({ CHAINCODE_SERVER_ADDRESS: '0.0.0.0:9999' }), /CHAINCODE_ID/);
    assert.throws(
      () =>
        serverOptionsFromEnv({
          CHAINCODE_SERVER_ADDRESS: '0.0.0.0:9999',
          CHAINCODE_ID: 'c2m:1',
          CHAINCODE_TLS_KEY_FILE: '/k',
        }),
      /go together/,
    );
  });
});
