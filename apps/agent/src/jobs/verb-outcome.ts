import type { VapixError } from '@custody/vapix';

/** A secret-free JSON value: what a result may hold. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonRecord = { [key: string]: JsonValue };

export interface JobErrorBody {
  /** Lower-case kebab code (`wrong-device`, `login-failed`, …): what the server and UI switch on. */
  code: string;
  message: string;
}

/** What a verb returns: expected camera outcomes are values, never exceptions. */
export type VerbOutcome =
  | { outcome: 'succeeded'; result: JsonRecord }
  | { outcome: 'failed'; result: JsonRecord | null; error: JobErrorBody };

export function succeeded(result: JsonRecord): VerbOutcome {
  return { outcome: 'succeeded', result };
}

export function failed(
  code: string,
  message: string,
  result: JsonRecord | null = null,
): VerbOutcome {
  return { outcome: 'failed', result, error: { code, message } };
}

/** `VAPIX_LOGIN_FAILED` → `login-failed`: the protocol's error codes are lower-case kebab. */
export function jobCodeOf(error: VapixError): string {
  return error.code
    .replace(/^VAPIX_/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}

/** A VAPIX failure a verb did not turn into a value itself, as a failed outcome. */
export function failedFromVapix(error: VapixError, doing: string): VerbOutcome {
  return failed(jobCodeOf(error), `${doing} failed: ${error.message}.`);
}

/** A plain, secret-free object as JSON (undefined members dropped), for a verb's result. */
export function toJsonRecord(value: object): JsonRecord {
  return JSON.parse(JSON.stringify(value)) as JsonRecord;
}
