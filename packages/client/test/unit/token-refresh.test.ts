import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthenticationFailedError, NotAuthenticatedError } from '../../src/index.js';
import { TokenRefresh } from '../../src/internal/token-refresh.js';

function store(token: string | null, getToken?: () => string | null | Promise<string | null>) {
  const s = {
    held: token,
    asked: 0,
    token: () => s.held,
    setToken: (t: string) => {
      s.held = t;
    },
    getToken: getToken
      ? () => {
          s.asked++;
          return getToken();
        }
      : undefined,
  };
  return s;
}

const current = () => true;

describe('token refresh', () => {
  it('a held token is used as is; getToken is not asked', async () => {
    const s = store('held', () => 'fresh');
    assert.equal(await new TokenRefresh(s).ensure(current), 'ok');
    assert.equal(s.asked, 0);
  });

  it('no token: getToken gives one; without getToken the run ends with NotAuthenticatedError', async () => {
    const s = store(null, () => 'fresh');
    assert.equal(await new TokenRefresh(s).ensure(current), 'ok');
    assert.equal(s.held, 'fresh');
    assert.ok((await new TokenRefresh(store(null)).ensure(current)) instanceof NotAuthenticatedError);
    assert.equal(new TokenRefresh(store(null)).available, false);
    assert.equal(new TokenRefresh(store('')).available, false, 'an empty token is none');
  });

  it('at most one refresh per refused token: a second refusal before a session is final', async () => {
    const s = store('old', () => 'fresh');
    const r = new TokenRefresh(s);
    assert.equal(r.refused(), true);
    assert.equal(await r.ensure(current), 'ok');
    assert.equal(s.held, 'fresh');
    assert.equal(r.refused(), false, 'the refreshed token was refused too');
    r.reset();
    assert.equal(r.refused(), true, 'a new run may refresh again');
    r.accepted();
    assert.equal(r.refused(), true, 'and so may a session that accepted the last one');
    assert.equal(new TokenRefresh(store('old')).refused(), false, 'no getToken: refusal is final');
  });

  it('getToken throwing or giving nothing ends the run with AuthenticationFailedError', async () => {
    const boom = new Error('down');
    const thrown = await new TokenRefresh(
      store(null, () => {
        throw boom;
      }),
    ).ensure(current);
    assert.ok(thrown instanceof AuthenticationFailedError && thrown.cause === boom);
    assert.ok((await new TokenRefresh(store(null, () => '')).ensure(current)) instanceof AuthenticationFailedError);
  });

  it('an answer that comes after the run was abandoned changes nothing', async () => {
    const s = store(null, async () => 'late');
    assert.equal(await new TokenRefresh(s).ensure(() => false), 'stale');
    assert.equal(s.held, null);
  });
});
