/**
 * GS1 identifiers for the services: keys and check digits (keys.ts), Digital Link URIs (digital-link.ts),
 * EPC URIs (epc.ts), allocation (allocate.ts). Import from 'services/src/gs1/index.js' (relative paths inside
 * services). Every parse refuses bad input with CodedError(VALIDATION_FAILED) naming the field and why.
 */
export { computeGln, computeSscc, formatLot, formatSerial, sglnKey } from './allocate.js';
export {
  CANONICAL_RESOLVER,
  checkedKey,
  type Gs1Key,
  parseDigitalLink,
  resolverBase,
  toDigitalLink,
} from './digital-link.js';
export {
  digitalLinkToEpc,
  epcToDigitalLink,
  type ParsedEpcUri,
  parseEpcUri,
  parseGs1Uri,
  toEpcUri,
} from './epc.js';
export {
  gs1CheckDigit,
  hasValidCheckDigit,
  parseCompanyPrefix,
  parseGln,
  parseGlnExtension,
  parseGtin,
  parseLot,
  parseSerial,
  parseSscc,
  withCheckDigit,
} from './keys.js';
