// The command table and the HTTP routes onto it: every command is served, the WebSocket methods and
// the HTTP routes are the ones docs/protocol.md specifies, and params come from the right places in
// the documented order of checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COMMANDS, socketCommand } from '../../src/commands.js';
import { ApiError } from '../../src/errors.js';
import { type HttpRoute, paramsOf, ROUTES } from '../../src/http-routes.js';

const protocol = readFileSync(new URL('../../../../docs/protocol.md', import.meta.url), 'utf8');
const section = (title: string) => protocol.split(`### ${title}`)[1]?.split(/^#{2,3} /m)[0] ?? '';
const route = (name: string) => ROUTES.find((r) => r.name === name) as HttpRoute;
const input = (body?: unknown, query = '') => ({
  query: new URLSearchParams(query),
  body: body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'none';
  } catch (err) {
    return err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
  }
};

describe('command table', () => {
  it('offers exactly the REQUEST methods of docs/protocol.md §5.4 on the WebSocket', () => {
    const documented = [...section('5.4 Requests').matchAll(/^\| `([a-z.]+)` \|/gm)].map((m) => m[1]);
    const offered = Object.keys(COMMANDS).filter((m) => socketCommand(m));
    assert.deepEqual(offered.sort(), documented.sort());
    assert.equal(socketCommand('user.register'), undefined);
    assert.equal(socketCommand('toString'), undefined);
  });

  it('serves every command but typing over HTTP, on the routes of docs/protocol.md §6.2', () => {
    const documented = [...section('6.2 Routes').matchAll(/^\| `([A-Z]+) ([^`]+)` \|/gm)].map(
      (m) => `${m[1]} /api${m[2]!.replace(/:[A-Za-z]+/g, 'x')}`,
    );
    const served = ROUTES.map((r) => {
      const path = documented.find((d) => d.startsWith(`${r.verb.toUpperCase()} `) && r.pattern.test(d.split(' ')[1]!));
      return path ?? `${r.verb} ${r.pattern} is not documented`;
    });
    assert.deepEqual(served.sort(), documented.sort());
    const routed = new Set<string>(ROUTES.map((r) => r.method));
    assert.deepEqual(
      Object.keys(COMMANDS).filter((m) => !routed.has(m)),
      ['typing.start'],
      'every command has a route, but typing (WebSocket only)',
    );
  });

  it('takes path ids out of the body: a body naming one is an unknown field', () => {
    assert.deepEqual(paramsOf(route('send'), input({ content: 'hi' }), ['10']), { content: 'hi', channel_id: '10' });
    assert.equal(
      codeOf(() => paramsOf(route('send'), input({ content: 'hi', channel_id: '10' }), ['10'])),
      'unknown_field: unknown field "channel_id" in body',
    );
    assert.deepEqual(paramsOf(route('edit'), input({ content: 'x' }), ['10', '11']), {
      content: 'x',
      channel_id: '10',
      message_id: '11',
    });
  });

  it('checks the body first, then path ids (404), then query values (400)', () => {
    assert.equal(
      codeOf(() => paramsOf(route('send'), input('{'), ['x'])),
      'invalid_json: the body is not valid JSON',
    );
    assert.equal(
      codeOf(() => paramsOf(route('send'), input(), ['10'])),
      'invalid_request: a JSON body is required',
    );
    assert.equal(
      codeOf(() => paramsOf(route('send'), input({}), ['x'])),
      'invalid_request: "content" is required',
    );
    assert.equal(
      codeOf(() => paramsOf(route('send'), input({ content: 'a' }), ['01'])),
      'not_found: unknown channel',
    );
    assert.equal(
      codeOf(() => paramsOf(route('remove_member'), input(), ['10', 'bob'])),
      'not_found: unknown user',
    );
    const history = route('history');
    assert.equal(
      codeOf(() => paramsOf(history, input(undefined, 'before=x&page=2'), ['x'])),
      'unknown_field: unknown query parameter "page"',
    );
    assert.equal(
      codeOf(() => paramsOf(history, input(undefined, 'before=x'), ['x'])),
      'not_found: unknown channel',
    );
    assert.equal(
      codeOf(() => paramsOf(history, input(undefined, 'before=x'), ['10'])),
      'invalid_request: before must be an id (decimal, below 2^63)',
    );
    assert.deepEqual(paramsOf(history, input(undefined, 'after=5&limit=20'), ['10']), {
      channel_id: '10',
      before: undefined,
      after: '5',
      limit: 20,
    });
    assert.ok(Number.isNaN(paramsOf(history, input(undefined, 'limit=1000'), ['10']).limit));
  });

  it('marks exactly the message writes durable', () => {
    const durable = Object.entries(COMMANDS)
      .filter(([, c]) => c.durable)
      .map(([m]) => m);
    assert.deepEqual(durable, ['message.create', 'message.update', 'message.delete']);
  });
});
