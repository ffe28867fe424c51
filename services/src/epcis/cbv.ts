/**
 * CBV 2.0 vocabularies: one canonical form per value for storage and query.
 *
 * A standard value may arrive as a bare name (`shipping`, the EPCIS 2.0 JSON/JSON-LD form), a CBV 1.2 URN
 * (`urn:epcglobal:cbv:bizstep:shipping`), a GS1 Web URI (`https://ref.gs1.org/cbv/BizStep-shipping`, also
 * `http://` and the `cbv:` / `gs1:` compact forms). Canonical: the bare name for a standard value, the full URI
 * (as given) for a user-defined one. A bare name that is not standard, or a standard namespace with an
 * unknown name (`urn:epcglobal:cbv:bizstep:shiping`), is refused: it is a typo, not an extension.
 *
 * API
 *   type CbvVocabulary = 'bizStep' | 'disposition' | 'bizTransactionType' | 'sourceDestType' | 'errorReason'
 *                      | 'measurementType' | 'sensorAlertType' | 'component'
 *   CBV_VOCABULARIES[vocabulary] -> readonly list of the standard bare names
 *   normaliseCbv(vocabulary, value, field?) -> canonical string (throws CodedError VALIDATION_FAILED)
 *   isStandardCbv(vocabulary, value) -> boolean (any accepted spelling of a standard value)
 *   cbvWebUri(vocabulary, value) -> GS1 Web URI of a standard value, the value itself otherwise
 *   cbvUrn(vocabulary, value) -> CBV 1.2 URN where the vocabulary had one (bizStep, disposition, BTT, SDT, ER)
 *   normaliseEventVocabulary(event) -> a copy of an EPCIS event with bizStep, disposition, persistentDisposition,
 *     bizTransaction/source/destination types, errorDeclaration.reason and sensor report type/exception/component
 *     in canonical form (what capture stores and query compares)
 */
import {
  BIZ_STEPS,
  BIZ_TRANSACTION_TYPES,
  CBV_WEB_PREFIX,
  COMPONENTS,
  CodedError,
  DISPOSITIONS,
  ERROR_REASONS,
  ErrorCodes,
  GS1_VOC_PREFIX,
  MEASUREMENT_TYPES,
  SENSOR_ALERT_TYPES,
  SOURCE_DESTINATION_TYPES,
} from '@c2m/shared';

export type CbvVocabulary =
  | 'bizStep'
  | 'disposition'
  | 'bizTransactionType'
  | 'sourceDestType'
  | 'errorReason'
  | 'measurementType'
  | 'sensorAlertType'
  | 'component';

export const CBV_VOCABULARIES: Record<CbvVocabulary, readonly string[]> = {
  bizStep: BIZ_STEPS,
  disposition: DISPOSITIONS,
  bizTransactionType: BIZ_TRANSACTION_TYPES,
  sourceDestType: SOURCE_DESTINATION_TYPES,
  errorReason: ERROR_REASONS,
  measurementType: MEASUREMENT_TYPES,
  sensorAlertType: SENSOR_ALERT_TYPES,
  component: COMPONENTS,
};

interface Spelling {
  /** Web URI prefix before the bare name. */
  web: string;
  /** Compact form prefix (`cbv:BizStep-`, `gs1:`). */
  compact: string;
  /** CBV 1.2 URN prefix, where the vocabulary existed in CBV 1.2. */
  urn?: string;
}

const SPELLINGS: Record<CbvVocabulary, Spelling> = {
  bizStep: { web: `${CBV_WEB_PREFIX}BizStep-`, compact: 'cbv:BizStep-', urn: 'urn:epcglobal:cbv:bizstep:' },
  disposition: { web: `${CBV_WEB_PREFIX}Disp-`, compact: 'cbv:Disp-', urn: 'urn:epcglobal:cbv:disp:' },
  bizTransactionType: { web: `${CBV_WEB_PREFIX}BTT-`, compact: 'cbv:BTT-', urn: 'urn:epcglobal:cbv:btt:' },
  sourceDestType: { web: `${CBV_WEB_PREFIX}SDT-`, compact: 'cbv:SDT-', urn: 'urn:epcglobal:cbv:sdt:' },
  errorReason: { web: `${CBV_WEB_PREFIX}ER-`, compact: 'cbv:ER-', urn: 'urn:epcglobal:cbv:er:' },
  measurementType: { web: GS1_VOC_PREFIX, compact: 'gs1:' },
  sensorAlertType: { web: GS1_VOC_PREFIX, compact: 'gs1:' },
  component: { web: `${CBV_WEB_PREFIX}Comp-`, compact: 'cbv:Comp-' },
};

const SETS: Record<CbvVocabulary, ReadonlySet<string>> = Object.fromEntries(
  Object.entries(CBV_VOCABULARIES).map(([k, v]) => [k, new Set(v)]),
) as unknown as Record<CbvVocabulary, ReadonlySet<string>>;

/** Namespaces that only standard values may use (a user-defined value must live in its own namespace). */
const CBV_RESERVED = ['urn:epcglobal:cbv:', CBV_WEB_PREFIX, 'http://ref.gs1.org/cbv/', 'cbv:'];
const VOC_RESERVED = [
  GS1_VOC_PREFIX,
  'http://gs1.org/voc/',
  'https://www.gs1.org/voc/',
  'http://www.gs1.org/voc/',
  'gs1:',
];
const reserved = (v: CbvVocabulary) =>
  v === 'measurementType' || v === 'sensorAlertType' ? VOC_RESERVED : CBV_RESERVED;

function refuse(field: string, why: string): CodedError {
  return new CodedError(ErrorCodes.VALIDATION_FAILED, `${field}: ${why}`);
}

/** The standard bare name behind any accepted spelling, or undefined. */
function standardName(vocabulary: CbvVocabulary, value: string): string | undefined {
  const set = SETS[vocabulary];
  if (set.has(value)) return value;
  const s = SPELLINGS[vocabulary];
  const prefixes = [s.web, s.web.replace('https://', 'http://'), s.compact, ...(s.urn ? [s.urn] : [])];
  for (const p of prefixes) {
    if (value.startsWith(p) && set.has(value.slice(p.length))) return value.slice(p.length);
  }
  return undefined;
}

const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

export function normaliseCbv(vocabulary: CbvVocabulary, value: unknown, field: string = vocabulary): string {
  if (typeof value !== 'string' || value.length === 0) throw refuse(field, `${vocabulary} must be a non-empty string`);
  if (value.length > 1024) throw refuse(field, `${vocabulary} is longer than 1024 characters`);
  const name = standardName(vocabulary, value);
  if (name !== undefined) return name;
  const shown = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (!URI.test(value)) {
    throw refuse(field, `${shown} is not a CBV 2.0 ${vocabulary}; a user-defined ${vocabulary} must be a URI`);
  }
  if (reserved(vocabulary).some((r) => value.startsWith(r))) {
    throw refuse(field, `${shown} is in the GS1 namespace but is not a CBV 2.0 ${vocabulary}`);
  }
  return value;
}

export function isStandardCbv(vocabulary: CbvVocabulary, value: string): boolean {
  return standardName(vocabulary, value) !== undefined;
}

export function cbvWebUri(vocabulary: CbvVocabulary, value: string): string {
  const name = standardName(vocabulary, value);
  return name === undefined ? value : SPELLINGS[vocabulary].web + name;
}

export function cbvUrn(vocabulary: CbvVocabulary, value: string): string {
  const name = standardName(vocabulary, value);
  const urn = SPELLINGS[vocabulary].urn;
  return name === undefined || urn === undefined ? value : urn + name;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A copy of the event with every CBV-valued field in canonical form; other fields are untouched (the event
 * hash is computed on what the client sent, so that it matches what the client computes).
 */
export function normaliseEventVocabulary(event: Json, field = 'event'): Json {
  const out: Json = { ...event };
  if (event.bizStep !== undefined) out.bizStep = normaliseCbv('bizStep', event.bizStep, `${field}.bizStep`);
  if (event.disposition !== undefined) {
    out.disposition = normaliseCbv('disposition', event.disposition, `${field}.disposition`);
  }
  if (isObject(event.persistentDisposition)) {
    const pd: Json = { ...event.persistentDisposition };
    for (const k of ['set', 'unset'] as const) {
      const list = pd[k];
      if (Array.isArray(list)) {
        pd[k] = list.map((v, i) => normaliseCbv('disposition', v, `${field}.persistentDisposition.${k}[${i}]`));
      }
    }
    out.persistentDisposition = pd;
  }
  const typed = (listName: string, vocabulary: CbvVocabulary) => {
    const list = event[listName];
    if (!Array.isArray(list)) return;
    out[listName] = list.map((entry, i) =>
      isObject(entry) && entry.type !== undefined
        ? { ...entry, type: normaliseCbv(vocabulary, entry.type, `${field}.${listName}[${i}].type`) }
        : entry,
    );
  };
  typed('bizTransactionList', 'bizTransactionType');
  typed('sourceList', 'sourceDestType');
  typed('destinationList', 'sourceDestType');
  if (isObject(event.errorDeclaration) && event.errorDeclaration.reason !== undefined) {
    out.errorDeclaration = {
      ...event.errorDeclaration,
      reason: normaliseCbv('errorReason', event.errorDeclaration.reason, `${field}.errorDeclaration.reason`),
    };
  }
  if (Array.isArray(event.sensorElementList)) {
    out.sensorElementList = event.sensorElementList.map((element, i) => {
      if (!isObject(element) || !Array.isArray(element.sensorReport)) return element;
      return {
        ...element,
        sensorReport: element.sensorReport.map((report, j) => {
          if (!isObject(report)) return report;
          const at = `${field}.sensorElementList[${i}].sensorReport[${j}]`;
          const r: Json = { ...report };
          if (report.type !== undefined) r.type = normaliseCbv('measurementType', report.type, `${at}.type`);
          if (report.exception !== undefined) {
            r.exception = normaliseCbv('sensorAlertType', report.exception, `${at}.exception`);
          }
          if (report.component !== undefined)
            r.component = normaliseCbv('component', report.component, `${at}.component`);
          return r;
        }),
      };
    });
  }
  return out;
}
