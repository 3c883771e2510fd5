// The body of a dispatch bundle: several dispatches in one AMQP message (`type: dispatch.bundle`).
// A broker message costs far more than a few hundred bytes of body, so a publisher that has many
// dispatches at once (the persister's batch) sends them as one message routed to the union of
// their keys; every gateway queue gets it once and keeps the records addressed to keys it binds.
//
// Format (UTF-8), one record per line:  JSON([id, [key, …]]) TAB JSON(envelope) LF
// JSON text never contains a raw TAB or LF (JSON.stringify escapes them inside strings), so both
// separate safely, and a consumer reads a record's id and keys without parsing its envelope.
import type { DispatchEnvelope } from './envelope.js';

export const BUNDLE_TYPE = 'dispatch.bundle';

export interface BundleRecord {
  /** The dispatch id: consumers keep one copy per id. */
  id: string;
  /** Routing keys of its audience (`s.<slot>` or `u.<userId>`). */
  keys: readonly string[];
  envelope: DispatchEnvelope;
}

/** One record line (LF included). */
export function encodeRecord(id: string, keys: readonly string[], envelope: DispatchEnvelope): string {
  return `${JSON.stringify([id, keys])}\t${JSON.stringify(envelope)}\n`;
}

export interface RawRecord {
  id: string;
  keys: string[];
  /** The envelope's JSON text, parsed only by a consumer that wants the record. */
  envelopeJson: string;
}

/** Splits a bundle body into records; a malformed line is reported through `onBad` and skipped. */
export function decodeBundle(body: string, onBad: (reason: string) => void): RawRecord[] {
  const out: RawRecord[] = [];
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    const line = body.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    const tab = line.indexOf('\t');
    if (tab === -1) {
      onBad('bundle_record_malformed');
      continue;
    }
    let head: unknown;
    try {
      head = JSON.parse(line.slice(0, tab));
    } catch {
      onBad('bundle_record_malformed');
      continue;
    }
    if (
      !Array.isArray(head) ||
      typeof head[0] !== 'string' ||
      !Array.isArray(head[1]) ||
      !head[1].every((k) => typeof k === 'string')
    ) {
      onBad('bundle_record_malformed');
      continue;
    }
    out.push({ id: head[0], keys: head[1] as string[], envelopeJson: line.slice(tab + 1) });
  }
  return out;
}

const MAX_RECORDS = 256;
const MAX_BYTES = 256 * 1024;

/** Splits records into bundles of at most 256 records and about 256 KiB, keeping their order. */
export function* bundlesOf<R extends { line: string }>(records: readonly R[]): Generator<R[]> {
  let bundle: R[] = [];
  let bytes = 0;
  for (const r of records) {
    if (bundle.length > 0 && (bundle.length >= MAX_RECORDS || bytes + r.line.length > MAX_BYTES)) {
      yield bundle;
      bundle = [];
      bytes = 0;
    }
    bundle.push(r);
    bytes += r.line.length;
  }
  if (bundle.length > 0) yield bundle;
}
