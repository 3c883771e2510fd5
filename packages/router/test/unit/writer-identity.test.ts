import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amqpUserOf, resolveRouterOptions, WRITER_NOT_ALLOWED } from '@chat/router';
import { writerProblem } from '../../src/internal/writer-identity.js';

describe('writer identity', () => {
  it('the AMQP user of a URL is its (decoded) user name, or guest as amqplib logs in without one', () => {
    assert.equal(amqpUserOf('amqp://gateway:pw@rabbit:5672'), 'gateway');
    assert.equal(amqpUserOf('amqps://a%40b:pw@rabbit'), 'a@b');
    assert.equal(amqpUserOf('amqp://127.0.0.1:5672'), 'guest');
    assert.throws(() => amqpUserOf('not a url'), /not a URL/);
  });

  it('router options take the one user of every URL, refuse URLs that disagree, and can switch it off', () => {
    assert.equal(resolveRouterOptions({ url: ['amqp://a:x@h1', 'amqp://a:y@h2'] }).amqpUser, 'a');
    assert.equal(resolveRouterOptions({}).amqpUser, 'guest');
    assert.throws(() => resolveRouterOptions({ url: ['amqp://a:x@h1', 'amqp://b:x@h2'] }), /same AMQP user/);
    assert.equal(resolveRouterOptions({ url: 'amqp://h', stampUserId: false }).amqpUser, undefined);
  });

  it('accepts listed writers only, and every writer when no list is given', () => {
    const accepted = new Set(['gateway']);
    assert.equal(writerProblem('gateway', accepted), undefined);
    assert.equal(writerProblem('monitor', accepted), WRITER_NOT_ALLOWED);
    assert.equal(writerProblem(undefined, accepted), WRITER_NOT_ALLOWED);
    assert.equal(writerProblem(undefined, undefined), undefined);
  });
});
