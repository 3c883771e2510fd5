// The OpenAPI 3.1 document of the HTTP API and the AsyncAPI 3 document of the WebSocket protocol and the
// AMQP topology, made from the schemas and tables of src/ (nothing here restates a field). Written to
// docs/openapi.json and docs/asyncapi.json by generate-docs.ts; test/unit/api-docs.test.ts fails when the
// checked-in files are stale and validates both with real parsers.
import {
  API_ERRORS,
  ClientFrame,
  CloseCode,
  COMMON_HTTP_ERRORS,
  DispatchEnvelope,
  DURABLE_WRITES,
  ErrorBody,
  EVENT_PAYLOADS,
  HelloPayload,
  HTTP_ROUTES,
  Op,
  REQUEST_METHODS,
  ResponsePayload,
  Snowflake,
} from '../src/index.js';

const VERSION = '1.0.0';
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function openApi(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of HTTP_ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => {
      const own = r.pathParams?.[m[1]!];
      return own
        ? { name: m[1], in: 'path', required: true, schema: clone(own) }
        : {
            name: m[1],
            in: 'path',
            required: true,
            description: 'a snowflake id; anything else names nothing (404)',
            schema: { type: 'string' },
          };
    });
    const query =
      r.name === 'history'
        ? ['before', 'after', 'limit'].map((name) => ({
            name,
            in: 'query',
            required: false,
            schema: name === 'limit' ? { type: 'integer', minimum: 1, maximum: 100, default: 50 } : clone(Snowflake),
          }))
        : Object.entries(r.query?.properties ?? {}).map(([name, schema]) => ({
            name,
            in: 'query',
            required: ((r.query as { required?: string[] } | undefined)?.required ?? []).includes(name),
            // A query parameter is absent or a value: the `null` alternative of an optional param does not apply.
            schema: clone((schema as { anyOf?: object[] }).anyOf?.[0] ?? schema),
          }));
    const responses: Record<string, object> = {
      [String(r.status)]:
        r.status === 204
          ? { description: 'done' }
          : { description: 'ok', content: { 'application/json': { schema: clone(r.result) } } },
    };
    for (const code of [...r.errors, ...COMMON_HTTP_ERRORS]) {
      const status = String(API_ERRORS[code]);
      const entry = (responses[status] ?? {
        description: '',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      }) as { description: string };
      entry.description = entry.description ? `${entry.description}, ${code}` : code;
      responses[status] = entry;
    }
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      operationId: r.name,
      summary: r.summary,
      ...(r.auth ? { security: [{ bearer: [] }] } : { security: [] }),
      ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: clone(r.body) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'chat-fabric HTTP API',
      version: VERSION,
      description:
        'Generated from packages/protocol (npm run -w @chat/protocol generate-docs); normative text: docs/protocol.md §6–7.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: clone(ErrorBody) },
    },
  };
}

/** A JSON Schema of one frame: `op` fixed, `d` the payload, and `t` for a DISPATCH. */
function frameSchema(op: number, d: object, t?: string): object {
  return {
    type: 'object',
    properties: { op: { const: op }, d: clone(d), ...(t ? { t: { const: t }, s: { type: 'integer' } } : {}) },
    required: t ? ['op', 'd', 't', 's'] : ['op'],
  };
}

export function asyncApi(): object {
  const messages: Record<string, object> = {};
  const add = (name: string, title: string, payload: object) => {
    messages[name] = { name, title, contentType: 'application/json', payload };
  };
  add('Hello', 'HELLO (op 10)', frameSchema(Op.HELLO, HelloPayload));
  add('Heartbeat', 'HEARTBEAT (op 1)', frameSchema(Op.HEARTBEAT, { anyOf: [{ type: 'integer' }, { type: 'null' }] }));
  add('HeartbeatAck', 'HEARTBEAT_ACK (op 11)', frameSchema(Op.HEARTBEAT_ACK, {}));
  add(
    'Identify',
    'IDENTIFY (op 2)',
    frameSchema(Op.IDENTIFY, { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] }),
  );
  add(
    'Resume',
    'RESUME (op 6)',
    frameSchema(Op.RESUME, {
      type: 'object',
      properties: { token: { type: 'string' }, since: clone(Snowflake) },
      required: ['token', 'since'],
    }),
  );
  add('Reconnect', 'RECONNECT (op 7)', frameSchema(Op.RECONNECT, { type: 'null' }));
  add('InvalidSession', 'INVALID_SESSION (op 9)', frameSchema(Op.INVALID_SESSION, {}));
  for (const [method, m] of Object.entries(REQUEST_METHODS)) {
    const name = `Request_${method.replace('.', '_')}`;
    add(
      name,
      `REQUEST ${method} (op 20)`,
      frameSchema(Op.REQUEST, {
        type: 'object',
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 64 },
          method: { const: method },
          params: clone(m.params),
        },
        required: ['id', 'method', 'params'],
      }),
    );
  }
  add('Response', 'RESPONSE (op 21)', frameSchema(Op.RESPONSE, ResponsePayload));
  for (const [event, payload] of Object.entries(EVENT_PAYLOADS))
    add(`Dispatch_${event}`, `DISPATCH ${event} (op 0)`, frameSchema(Op.DISPATCH, payload, event));
  const ref = (names: string[]) => names.map((n) => ({ $ref: `#/channels/gateway/messages/${n}` }));
  const clientSends = [
    'Heartbeat',
    'Identify',
    'Resume',
    ...Object.keys(messages).filter((n) => n.startsWith('Request_')),
  ];
  const serverSends = Object.keys(messages).filter((n) => !clientSends.includes(n));

  const amqp: Record<string, object> = {};
  amqp.Dispatch = { name: 'Dispatch', contentType: 'application/json', payload: clone(DispatchEnvelope) };
  for (const [type, schema] of Object.entries(DURABLE_WRITES))
    amqp[type.replace('.', '_')] = { name: type, contentType: 'application/json', payload: clone(schema) };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'chat-fabric WebSocket protocol and AMQP topology',
      version: VERSION,
      description:
        'Generated from packages/protocol (npm run -w @chat/protocol generate-docs); normative text: docs/protocol.md §1–5. ' +
        `Close codes: ${Object.entries(CloseCode)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}. ` +
        `A client frame is ${JSON.stringify(ClientFrame)}.`,
    },
    servers: {
      gateway: { host: 'localhost:8080', protocol: 'ws', description: 'a gateway; the socket is at /ws' },
      broker: { host: 'localhost:5672', protocol: 'amqp', description: 'RabbitMQ; names use the deployment prefix' },
    },
    channels: {
      gateway: {
        address: '/ws',
        servers: [{ $ref: '#/servers/gateway' }],
        messages,
      },
      persist: {
        address: '{prefix}.persist',
        description:
          'The durable writes: a quorum queue, consumed by the persisters; refused writes go to {prefix}.dlx → {prefix}.persist.dead.',
        parameters: { prefix: { description: 'the deployment name prefix' } },
        servers: [{ $ref: '#/servers/broker' }],
        messages: Object.fromEntries(
          Object.keys(amqp)
            .filter((k) => k !== 'Dispatch')
            .map((k) => [k, amqp[k]]),
        ),
      },
      route: {
        address: '{prefix}.route.{partition}',
        description:
          'Deliveries to gateways, routed by slot key (docs/protocol.md §2); several envelopes may travel as one bundle.',
        parameters: { prefix: { description: 'the deployment name prefix' }, partition: { description: 'slot mod P' } },
        servers: [{ $ref: '#/servers/broker' }],
        messages: { Dispatch: amqp.Dispatch },
      },
    },
    operations: {
      clientSends: {
        action: 'receive',
        channel: { $ref: '#/channels/gateway' },
        summary: 'what a client sends to the gateway',
        messages: ref(clientSends),
      },
      serverSends: {
        action: 'send',
        channel: { $ref: '#/channels/gateway' },
        summary: 'what the gateway sends to a client',
        messages: ref(serverSends),
      },
      durableWrite: {
        action: 'send',
        channel: { $ref: '#/channels/persist' },
        summary: 'a gateway or service publishes a durable write (confirmed by the broker)',
        messages: Object.keys(amqp)
          .filter((k) => k !== 'Dispatch')
          .map((k) => ({ $ref: `#/channels/persist/messages/${k}` })),
      },
      dispatch: {
        action: 'send',
        channel: { $ref: '#/channels/route' },
        summary: 'the persister or a gateway delivers an event to the gateways of its audience',
        messages: [{ $ref: '#/channels/route/messages/Dispatch' }],
      },
    },
  };
}

export const API_DOCS = { 'openapi.json': openApi, 'asyncapi.json': asyncApi } as const;

export function docText(name: keyof typeof API_DOCS): string {
  return `${JSON.stringify(API_DOCS[name](), null, 2)}\n`;
}
