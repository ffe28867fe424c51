import { useTranslation } from 'react-i18next';
import type { DeviceStatus, OfferStatus, OrderStatus, WorkOrderStatus } from '../api';
import { Badge, type Tone } from './ui';

const orderTones: Record<OrderStatus, Tone> = {
  draft: 'neutral',
  posted: 'neutral',
  dispatching: 'info',
  offered: 'info',
  partly_accepted: 'warn',
  accepted: 'good',
  in_production: 'good',
  shipped: 'info',
  delivered: 'good',
  closed: 'neutral',
  cancelled: 'bad',
};

const offerTones: Record<OfferStatus, Tone> = {
  open: 'info',
  accepted: 'good',
  declined: 'bad',
  expired: 'neutral',
  withdrawn: 'neutral',
};

// As for orders: accepted work is good news, shipped goods are on their way.
const workOrderTones: Record<WorkOrderStatus, Tone> = {
  committing: 'neutral',
  committed: 'good',
  produced: 'good',
  qc_passed: 'good',
  shipped: 'info',
  delivered: 'good',
};

const deviceTones: Record<DeviceStatus, Tone> = {
  REGISTERED: 'warn',
  CERTIFIED: 'good',
  SUSPENDED: 'bad',
  REVOKED: 'bad',
};

// Unknown statuses (the API may grow) still render, untranslated and neutral.
export function OrderStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const known = status in orderTones;
  return (
    <Badge tone={known ? orderTones[status as OrderStatus] : 'neutral'} testId="order-status">
      {known ? t(`orderStatus.${status as OrderStatus}`) : status}
    </Badge>
  );
}

export function OfferStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const known = status in offerTones;
  return (
    <Badge tone={known ? offerTones[status as OfferStatus] : 'neutral'} testId="offer-status">
      {known ? t(`offerStatus.${status as OfferStatus}`) : status}
    </Badge>
  );
}

export function DeviceStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const known = status in deviceTones;
  return (
    <Badge tone={known ? deviceTones[status as DeviceStatus] : 'neutral'} testId="device-status">
      {known ? t(`deviceStatus.${status as DeviceStatus}`) : status}
    </Badge>
  );
}

export function WorkOrderStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const known = status in workOrderTones;
  return (
    <Badge tone={known ? workOrderTones[status as WorkOrderStatus] : 'neutral'} testId="work-order-status">
      {known ? t(`workOrderStatus.${status as WorkOrderStatus}`) : status}
    </Badge>
  );
}
