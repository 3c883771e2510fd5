// Where W1's time went, from the services' own Prometheus metrics scraped before and after a step:
// gateway request and confirm times, the persister's loop, insert and dispatch times and batch size,
// and what the broker did per message sent (publishes and deliveries on the persist and gateway queues).
import {
  type Histogram,
  histogramDelta,
  histogramQuantile,
  type Metrics,
  observedBetween,
  scrape,
} from '../lib/prom.js';
import type { W1Stack } from './stack.js';

/** Where the time went, from the services' own histograms over the step (send window + grace). */
export interface Breakdown {
  /** Gateway: message.create request (rate limit, membership check, durable write until confirmed). */
  requestMeanMs: number;
  requestP99Ms: number;
  /** Gateway: durable write publish → broker confirm. */
  confirmMeanMs: number;
  confirmP99Ms: number;
  /** Persister: delivered → stored → dispatched (confirmed) → acked, per write. */
  loopMeanMs: number;
  loopP99Ms: number;
  insertMeanMs: number;
  dispatchMeanMs: number;
  meanBatch: number;
  busyPerSec: number;
  /** Gateway deliveries (frames to sockets) per message sent. */
  deliveriesPerMessage: number;
  /** Envelopes consumed by the gateways per message sent. */
  envelopesPerMessage: number;
  /** Extra AMQP copies (one per further partition) the gateways' routers dropped, per message sent. */
  droppedCopiesPerMessage: number;
  /** Broker messages per message sent: persist-queue publishes (gateways) and deliveries (persister),
   *  dispatch publishes (persister) and gateway-queue deliveries — what the broker does per DM. */
  persistPublishesPerMessage: number;
  persistDeliveriesPerMessage: number;
  dispatchPublishesPerMessage: number;
  gatewayDeliveriesPerMessage: number;
}

/** The gateways' and the persister's metrics; undefined when one does not answer (an overloaded gateway may not). */
export type ServiceMetrics = [gateways: Metrics[], persister: Metrics];

export function scrapeServices(stack: W1Stack): Promise<ServiceMetrics | undefined> {
  return Promise.all([
    Promise.all(stack.gateways.map((g) => scrape(`${g.url}/metrics`))),
    scrape(stack.persister!.metricsUrl),
  ]).catch((err: unknown) => {
    console.warn(`  metrics unavailable: ${(err as Error).message}`);
    return undefined;
  });
}

function sumHist(list: Metrics[], name: string, labels: Record<string, string> = {}): Histogram {
  const hs = list.map((m) => m.histogram(name, labels));
  const le = hs[0]!.le;
  return {
    le,
    cumulative: le.map((_, i) => hs.reduce((n, h) => n + (h.cumulative[i] ?? 0), 0)),
    sum: hs.reduce((n, h) => n + h.sum, 0),
    count: hs.reduce((n, h) => n + h.count, 0),
  };
}

export function emptyBreakdown(): Breakdown {
  const n = Number.NaN;
  return {
    requestMeanMs: n,
    requestP99Ms: n,
    confirmMeanMs: n,
    confirmP99Ms: n,
    loopMeanMs: n,
    loopP99Ms: n,
    insertMeanMs: n,
    dispatchMeanMs: n,
    meanBatch: n,
    busyPerSec: n,
    deliveriesPerMessage: n,
    envelopesPerMessage: n,
    droppedCopiesPerMessage: n,
    persistPublishesPerMessage: n,
    persistDeliveriesPerMessage: n,
    dispatchPublishesPerMessage: n,
    gatewayDeliveriesPerMessage: n,
  };
}

export function breakdownOf(
  gw0: Metrics[],
  gw1: Metrics[],
  p0: Metrics,
  p1: Metrics,
  sent: number,
  seconds: number,
): Breakdown {
  const mean = (h: Histogram) => (h.count > 0 ? (h.sum / h.count) * 1000 : Number.NaN);
  const q99 = (h: Histogram) => histogramQuantile(h, 0.99) * 1000;
  const req = histogramDelta(
    sumHist(gw0, 'chat_gateway_request_seconds', { method: 'message.create' }),
    sumHist(gw1, 'chat_gateway_request_seconds', { method: 'message.create' }),
  );
  const conf = histogramDelta(
    sumHist(gw0, 'chat_gateway_send_confirm_seconds'),
    sumHist(gw1, 'chat_gateway_send_confirm_seconds'),
  );
  const loop = observedBetween(p0, p1, 'chat_persister_loop_seconds');
  const ins = observedBetween(p0, p1, 'chat_persister_insert_seconds');
  const dis = observedBetween(p0, p1, 'chat_persister_dispatch_seconds');
  const bat = observedBetween(p0, p1, 'chat_persister_batch_size');
  const total = (list: Metrics[], name: string, labels: Record<string, string> = {}) =>
    list.reduce((n, m) => n + m.value(name, labels), 0);
  const perSent = (before: Metrics[], after: Metrics[], name: string, labels: Record<string, string>) =>
    (total(after, name, labels) - total(before, name, labels)) / Math.max(1, sent);
  return {
    requestMeanMs: mean(req),
    requestP99Ms: q99(req),
    confirmMeanMs: mean(conf),
    confirmP99Ms: q99(conf),
    loopMeanMs: mean(loop),
    loopP99Ms: q99(loop),
    insertMeanMs: mean(ins),
    dispatchMeanMs: mean(dis),
    meanBatch: bat.count > 0 ? bat.sum / bat.count : Number.NaN,
    busyPerSec:
      (p1.value('chat_persister_busy_seconds_total') - p0.value('chat_persister_busy_seconds_total')) / seconds,
    deliveriesPerMessage:
      (total(gw1, 'chat_gateway_deliveries_total') - total(gw0, 'chat_gateway_deliveries_total')) / Math.max(1, sent),
    envelopesPerMessage:
      (total(gw1, 'chat_gateway_envelopes_total') - total(gw0, 'chat_gateway_envelopes_total')) / Math.max(1, sent),
    droppedCopiesPerMessage:
      (total(gw1, 'chat_router_duplicate_deliveries_total') - total(gw0, 'chat_router_duplicate_deliveries_total')) /
      Math.max(1, sent),
    persistPublishesPerMessage: perSent(gw0, gw1, 'chat_router_publishes_total', { kind: 'durable', outcome: 'ok' }),
    persistDeliveriesPerMessage: perSent([p0], [p1], 'chat_router_consumed_messages_total', { queue: 'persist' }),
    dispatchPublishesPerMessage: perSent([p0], [p1], 'chat_router_publishes_total', {
      kind: 'dispatch',
      outcome: 'ok',
    }),
    gatewayDeliveriesPerMessage: perSent(gw0, gw1, 'chat_router_consumed_messages_total', { queue: 'gateway' }),
  };
}
