// The persister's small HTTP surface: /metrics (Prometheus), /healthz (process up), /readyz
// (broker connected and MongoDB answering).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HttpOptions {
  host: string;
  port: number;
  registry: Registry;
  ready: () => Promise<boolean>;
}

export async function startHttp(o: HttpOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'application/json', '{"code":"method_not_allowed"}');
    if (path === '/healthz') return reply(200, 'application/json', '{"status":"ok"}');
    if (path === '/readyz') {
      o.ready().then(
        (ok) => reply(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ready' : 'unavailable' })),
        () => reply(503, 'application/json', '{"status":"unavailable"}'),
      );
      return;
    }
    if (path === '/metrics') {
      o.registry.metrics().then(
        (text) => reply(200, o.registry.contentType, text),
        (err: Error) => reply(500, 'text/plain', err.message),
      );
      return;
    }
    reply(404, 'application/json', '{"code":"not_found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return server;
}
