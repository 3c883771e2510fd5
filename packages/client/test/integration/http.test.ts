// HTTP failures a real gateway does not produce on cue (test/e2e/gateway-api.test.ts covers the API
// itself): a non-JSON error page, a call without an answer, an unreachable server, and an injected
// fetch with a base URL prefix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatApiError, createClient, type FetchLike, NetworkError, RequestTimeoutError } from '../../src/index.js';
import { startFakeServer } from './fake-server.js';
import { ALICE, fixture } from './helpers.js';

describe('HTTP API', () => {
  it('an error status without a JSON body keeps the status line and a code of http_<status>', async (t) => {
    const f = await fixture(t);
    f.server.onHttp = () => ({ status: 502, body: '<html>bad gateway</html>' });
    await assert.rejects(f.client.me(), (err: unknown) => {
      assert.ok(err instanceof ChatApiError);
      assert.equal(err.code, 'http_502');
      assert.equal(err.status, 502);
      return true;
    });
  });

  it('a call without an answer rejects with RequestTimeoutError after requestTimeoutMs', async (t) => {
    const f = await fixture(t, { requestTimeoutMs: 100 });
    f.server.onHttp = () => ({ status: 200, hang: true });
    await assert.rejects(f.client.me(), RequestTimeoutError);
  });

  it('a server that cannot be reached rejects with NetworkError', async () => {
    const server = await startFakeServer();
    await server.close();
    const client = createClient({ baseUrl: server.baseUrl });
    await assert.rejects(client.me(), NetworkError);
  });

  it('an injected fetch carries every call, and a base URL path prefix is kept', async () => {
    const calls: Array<{ url: string; method: string; auth: string | undefined }> = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push({ url, method: init.method, auth: init.headers.authorization });
      return new Response(JSON.stringify(ALICE), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = createClient({ baseUrl: 'https://chat.example/prefix/', token: 't', fetch });
    assert.deepEqual(await client.me(), ALICE);
    assert.deepEqual(calls, [{ url: 'https://chat.example/prefix/api/v1/users/@me', method: 'GET', auth: 'Bearer t' }]);
  });
});
