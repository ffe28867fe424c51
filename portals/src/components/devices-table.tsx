import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Device } from '../api';
import { formatDate, shortHash } from '../lib/format';
import { OrgName } from './org-name';
import { DeviceStatusBadge } from './status-badges';
import { Mono } from './ui';

export function DevicesTable({
  devices,
  showFactory,
  action,
}: {
  devices: Device[];
  showFactory?: boolean;
  action?: (d: Device) => ReactNode;
}) {
  const { t, i18n } = useTranslation();
  const sorted = [...devices].sort(
    (a, b) => a.factoryMspId.localeCompare(b.factoryMspId) || a.deviceId.localeCompare(b.deviceId),
  );
  return (
    <table className="table" data-testid="devices-table">
      <thead>
        <tr>
          <th>{t('devices.deviceId')}</th>
          {showFactory && <th>{t('devices.factory')}</th>}
          <th>{t('devices.model')}</th>
          <th>{t('devices.serial')}</th>
          <th>{t('devices.line')}</th>
          <th>{t('devices.status')}</th>
          <th>{t('devices.certifiedUntil')}</th>
          <th>{t('devices.fingerprint')}</th>
          {action && <th />}
        </tr>
      </thead>
      <tbody>
        {sorted.map((d) => (
          <tr key={d.deviceId} data-testid="device-row" data-device-id={d.deviceId} data-status={d.status}>
            <td>
              <strong>{d.deviceId}</strong>
            </td>
            {showFactory && (
              <td>
                <OrgName mspId={d.factoryMspId} />
              </td>
            )}
            <td>{d.model}</td>
            <td className="nowrap">
              <Mono>{d.serial}</Mono>
            </td>
            <td className="nowrap">{d.line}</td>
            <td>
              <DeviceStatusBadge status={d.status} />
            </td>
            <td className="nowrap">{formatDate(d.certifiedUntil, i18n.language)}</td>
            <td>
              <Mono title={d.certificateFingerprint}>{shortHash(d.certificateFingerprint, 6)}</Mono>
            </td>
            {action && <td>{action(d)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
