import { OrgKinds } from '@c2m/shared';
import type { AuthUser } from '../plugins/auth.js';

/**
 * Who may see a work order, in one place for every view built on it (the work-order routes, proof bundles,
 * the EPCIS query): its brand, its factory, financiers (whose job is to finance any work order) and the
 * platform org.
 */
export function maySeeWorkOrder(user: AuthUser, wo: { brandMsp: string; factoryMsp: string }): boolean {
  return (
    user.orgKind === OrgKinds.finance ||
    user.orgKind === OrgKinds.platform ||
    wo.brandMsp === user.mspId ||
    wo.factoryMsp === user.mspId
  );
}

/**
 * The same rule as SQL over `work_orders w`, for queries that filter many rows at once. `mspParam` gives the
 * placeholder ($n) bound to the user's MSP id; it is called only when the rule needs it.
 */
export function visibleWorkOrdersSql(user: AuthUser, mspParam: () => string): string {
  if (user.orgKind === OrgKinds.finance || user.orgKind === OrgKinds.platform) return 'TRUE';
  const me = mspParam();
  return `(w.brand_msp = ${me} OR w.factory_msp = ${me})`;
}
