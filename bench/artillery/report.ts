// Reads what an `artillery run --output x.json` of the chat scenarios measured (the processor's
// custom metrics in the aggregate section) into one summary per step, and formats the tables.
import { readFileSync } from 'node:fs';
import { formatTable } from '../lib/table.js';

/** Artillery's summary of a histogram (milliseconds). */
export interface ArtillerySummary {
  min: number;
  max: number;
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface ArtilleryAggregate {
  counters: Record<string, number>;
  summaries: Record<string, ArtillerySummary>;
}

export interface StepSummary {
  label: string;
  /** Offered rate: messages/s over all senders. */
  rate: number;
  users: number;
  senders: number;
  /** Copies each acked message should reach (1 in W1, members − 1 in W2). */
  recipients: number;
  identified: number;
  sent: number;
  acked: number;
  refusedOverloaded: number;
  refusedOther: number;
  unacked: number;
  received: number;
  expectedReceived: number;
  sendToReceive: ArtillerySummary | undefined;
  ack: ArtillerySummary | undefined;
  /** VU errors Artillery counted (errors.*), by name. */
  errors: Record<string, number>;
  /** Open files of the Artillery process, at most (sampled each second). */
  maxOpenFiles: number;
}

export function readAggregate(path: string): ArtilleryAggregate {
  const json = JSON.parse(readFileSync(path, 'utf8')) as { aggregate?: Partial<ArtilleryAggregate> };
  if (!json.aggregate) throw new Error(`${path} has no aggregate section: not an artillery --output file`);
  return { counters: json.aggregate.counters ?? {}, summaries: json.aggregate.summaries ?? {} };
}

export function summarizeStep(
  agg: ArtilleryAggregate,
  step: Pick<StepSummary, 'label' | 'rate' | 'users' | 'senders' | 'recipients' | 'maxOpenFiles'>,
): StepSummary {
  const n = (name: string) => agg.counters[name] ?? 0;
  const acked = n('chat.acked');
  const errors: Record<string, number> = {};
  for (const [k, v] of Object.entries(agg.counters)) if (k.startsWith('errors.')) errors[k.slice(7)] = v;
  return {
    ...step,
    identified: n('chat.identified'),
    sent: n('chat.sent'),
    acked,
    refusedOverloaded: n('chat.refused.overloaded'),
    refusedOther: n('chat.refused.other'),
    unacked: n('chat.unacked'),
    received: n('chat.received'),
    expectedReceived: acked * step.recipients,
    sendToReceive: agg.summaries['chat.send_to_receive'],
    ack: agg.summaries['chat.ack'],
    errors,
  };
}

const ms = (s: ArtillerySummary | undefined, key: 'p50' | 'p95' | 'p99' | 'max') =>
  s ? `${s[key].toFixed(1)} ms` : undefined;

/** Two tables: latencies, and what was sent, answered and received. */
export function stepTables(steps: readonly StepSummary[]): { latency: string; counts: string } {
  const latency = formatTable(
    ['step', 'msg/s offered', 'send→receive p50', 'p95', 'p99', 'max', 'ack p50', 'ack p95', 'ack p99', 'ack max'],
    steps.map((s) => [
      s.label,
      s.rate,
      ms(s.sendToReceive, 'p50'),
      ms(s.sendToReceive, 'p95'),
      ms(s.sendToReceive, 'p99'),
      ms(s.sendToReceive, 'max'),
      ms(s.ack, 'p50'),
      ms(s.ack, 'p95'),
      ms(s.ack, 'p99'),
      ms(s.ack, 'max'),
    ]),
  );
  const counts = formatTable(
    [
      'step',
      'users',
      'identified',
      'sent',
      'acked',
      'refused overloaded',
      'refused other',
      'unanswered',
      'received',
      'expected',
      'VU errors',
      'max open files',
    ],
    steps.map((s) => [
      s.label,
      s.users,
      s.identified,
      s.sent,
      s.acked,
      s.refusedOverloaded,
      s.refusedOther,
      s.unacked,
      s.received,
      s.expectedReceived,
      Object.values(s.errors).reduce((a, b) => a + b, 0),
      s.maxOpenFiles,
    ]),
  );
  return { latency, counts };
}
