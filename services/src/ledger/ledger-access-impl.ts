import type { IdentityStore } from '@c2m/identity';
import { anchorsContract, devicesContract, orgsContract, recallsContract, workOrdersContract } from '@c2m/network';
import { ErrorCodes, type Ledger } from '@c2m/shared';
import type { LedgerAccess, LedgerDevice, TxRef } from './ledger-access.js';

/** Where a write landed: the ledger's answer without the record. */
async function txRef(write: Promise<{ txId: string; blockNumber: number }>): Promise<TxRef> {
  const { txId, blockNumber } = await write;
  return { txId, blockNumber };
}

type DeviceRecord = Awaited<ReturnType<ReturnType<typeof devicesContract>['readDevice']>>;

function toDevice(d: DeviceRecord): LedgerDevice {
  return {
    ...d,
    deviceId: d.deviceId,
    factoryMspId: d.ownerMspId,
    model: d.model,
    serial: d.serial,
    line: d.line,
    certificateFingerprint: d.certificateFingerprint,
    publicKeyPem: d.publicKeyPem,
    status: d.status,
    validUntil: d.validUntil ?? undefined,
  };
}

/**
 * LedgerAccess on the typed contract facades. Facades are made per call from
 * the acting user's identity, so the chaincode sees that user's MSP and role.
 * On open it makes sure every org of the consortium is registered on the
 * ledger (the platform admin does that, once).
 */
export async function createLedgerAccess(
  ledger: Ledger,
  identity: IdentityStore,
  platformAdmin: string,
): Promise<LedgerAccess> {
  const as = (username: string) => identity.userIdentity(username);
  const admin = orgsContract(ledger, as(platformAdmin));
  for (const org of identity.orgs()) {
    try {
      await admin.getOrg(org.mspId);
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCodes.NOT_FOUND) throw err;
      try {
        await admin.registerOrg({ mspId: org.mspId, kind: org.kind, name: org.names.en });
      } catch (e) {
        // Another process registered it first.
        if ((e as { code?: string }).code !== ErrorCodes.ALREADY_EXISTS) throw e;
      }
    }
  }

  return {
    async registerDevice(username, device) {
      return txRef(devicesContract(ledger, as(username)).registerDevice(device));
    },
    async certifyDevice(username, deviceId, certification) {
      return txRef(devicesContract(ledger, as(username)).certifyDevice(deviceId, certification));
    },
    async suspendDevice(username, deviceId, note) {
      return txRef(devicesContract(ledger, as(username)).suspend(deviceId, note));
    },
    async reactivateDevice(username, deviceId, note) {
      return txRef(devicesContract(ledger, as(username)).reactivate(deviceId, note));
    },
    async revokeDevice(username, deviceId, note) {
      return txRef(devicesContract(ledger, as(username)).revoke(deviceId, note));
    },
    async rotateDeviceKey(username, deviceId, rotation) {
      return txRef(devicesContract(ledger, as(username)).rotateKey(deviceId, rotation));
    },
    async deviceCertifiedAt(username, deviceId, time) {
      return devicesContract(ledger, as(username)).wasCertifiedAt(deviceId, time);
    },
    async readDevice(username, deviceId) {
      return toDevice(await devicesContract(ledger, as(username)).readDevice(deviceId));
    },
    async deviceHistory(username, deviceId) {
      const history = await devicesContract(ledger, as(username)).history(deviceId);
      return history
        .map((h) => ({
          txId: h.txId,
          timestamp: h.timestamp,
          isDelete: h.value === null,
          record: h.value && toDevice(h.value),
        }))
        .reverse();
    },
    async commitWorkOrder(username, wo, terms) {
      const r = await workOrdersContract(ledger, as(username)).commitWorkOrder({
        workOrderId: wo.workOrderId,
        orderId: wo.orderId,
        factoryMspId: wo.factoryMspId,
        terms: terms as Record<string, unknown>,
      });
      if (r.record.termsHash !== wo.termsHash) {
        throw new Error(`ledger terms hash ${r.record.termsHash} differs from ${wo.termsHash}`);
      }
      return { txId: r.txId, blockNumber: r.blockNumber };
    },
    async acceptWorkOrder(username, workOrderId) {
      return txRef(workOrdersContract(ledger, as(username)).acceptWorkOrder(workOrderId));
    },
    async readWorkOrder(username, workOrderId) {
      const r = await workOrdersContract(ledger, as(username)).readWorkOrder(workOrderId);
      return { ...r, workOrderId: r.workOrderId, status: r.status };
    },
    async recordMilestone(username, workOrderId, milestone, evidence) {
      return txRef(workOrdersContract(ledger, as(username)).recordMilestone(workOrderId, milestone, evidence));
    },
    async openRecall(username, recall) {
      const r = await recallsContract(ledger, as(username)).openRecall(recall);
      return { txId: r.txId, blockNumber: r.blockNumber, record: r.record };
    },
    async updateRecall(username, recallId, status, note) {
      const r = await recallsContract(ledger, as(username)).updateRecall(recallId, status, note);
      return { txId: r.txId, blockNumber: r.blockNumber, record: r.record };
    },
    async readRecall(username, recallId) {
      return recallsContract(ledger, as(username)).readRecall(recallId);
    },
    async recallsByLot(username, gtin, lot) {
      return recallsContract(ledger, as(username)).listByLot(gtin, lot);
    },
    async startProduction(username, workOrderId, lots) {
      return txRef(workOrdersContract(ledger, as(username)).startProduction(workOrderId, lots));
    },
    async anchorBatch(username, a) {
      const r = await anchorsContract(ledger, as(username)).anchorBatch({
        batchId: a.batchId,
        factoryMspId: a.factoryMspId,
        merkleRootHex: a.merkleRoot,
        eventCount: a.eventCount,
        firstEventTime: a.firstEventTime,
        lastEventTime: a.lastEventTime,
        ...(a.totals ? { totals: a.totals } : {}),
      });
      return { txId: r.txId, blockNumber: r.blockNumber };
    },
    async readAnchor(username, batchId) {
      const r = await anchorsContract(ledger, as(username)).readAnchor(batchId);
      return { ...r, merkleRoot: r.merkleRootHex };
    },
    async listAnchorsByTime(username, factoryMspId, window, page) {
      const r = await anchorsContract(ledger, as(username)).listByFactoryAndTime(factoryMspId, window, page);
      const records = r.records.map((a) => ({
        batchId: a.batchId,
        factoryMspId: a.factoryMspId,
        merkleRoot: a.merkleRootHex,
        eventCount: a.eventCount,
        firstEventTime: a.firstEventTime,
        lastEventTime: a.lastEventTime,
        anchoredAt: a.anchoredAt,
        anchoredBy: { mspId: a.anchoredBy.mspId, cn: a.anchoredBy.cn },
        txId: a.txId,
      }));
      return { records, bookmark: r.bookmark };
    },
  };
}
