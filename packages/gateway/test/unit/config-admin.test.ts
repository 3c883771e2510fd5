// The operator's view's configuration: admins come from ADMIN_USERS only; the management API's URL
// is checked; the vhost is the broker URL's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { JWT_SECRET: 'x'.repeat(40) };

describe('admin configuration', () => {
  it('has no admin and the local management API by default', () => {
    const c = loadConfig(base);
    assert.deepEqual(c.admin.users, []);
    assert.equal(c.admin.managementUrl, 'http://127.0.0.1:15672');
    assert.equal(c.admin.vhost, '/');
  });

  it('reads admins by name or id, the management account, and the vhost of AMQP_URL', () => {
    const c = loadConfig({
      ...base,
      ADMIN_USERS: ' ops , 264905529753620400 ',
      RABBITMQ_MANAGEMENT_URL: 'https://mq.example:15671/',
      RABBITMQ_MANAGEMENT_USER: 'mon',
      RABBITMQ_MANAGEMENT_PASSWORD: 'pw',
      AMQP_URL: 'amqp://u:p@mq.example:5672/chat%2Fprod',
    });
    assert.deepEqual(c.admin.users, ['ops', '264905529753620400']);
    assert.equal(c.admin.managementUrl, 'https://mq.example:15671');
    assert.equal(c.admin.managementUser, 'mon');
    assert.equal(c.admin.managementPassword, 'pw');
    assert.equal(c.admin.vhost, 'chat/prod');
  });

  it('refuses a management URL that is not http(s) and an over-long admin name', () => {
    assert.throws(() => loadConfig({ ...base, RABBITMQ_MANAGEMENT_URL: 'amqp://x' }), ConfigError);
    assert.throws(() => loadConfig({ ...base, ADMIN_USERS: 'a'.repeat(101) }), /ADMIN_USERS/);
  });
});
