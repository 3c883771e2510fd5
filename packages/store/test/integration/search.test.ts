// MessageSearch against MongoDB (MONGO_URL) or the stand-in: the text index the store creates, every
// word required, only the given channels, newest first with `before` paging, deletes and edits.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSnowflake, searchTerms } from '@chat/protocol';
import { SEARCH_INDEX, ValidationError } from '@chat/store';
import { openStore, type StoreFixture } from './fixture.js';

const T0 = Date.parse('2026-05-01T00:00:00Z');
const id = (seq: number) => makeSnowflake(T0 + seq * 1000, 7, seq).toString();

const CONTENTS: Array<[string, string]> = [
  ['c1', 'Deploy the release tonight'],
  ['c2', 'the release notes are ready'],
  ['c1', 'Release party at the café'],
  ['c3', 'secret release plan'],
  ['c1', 'nothing relevant'],
  ['c2', 'RELEASE RELEASE'],
];

describe('message search', () => {
  let fx: StoreFixture;
  const ids = CONTENTS.map((_, i) => id(i + 1));

  before(async () => {
    fx = await openStore({ redis: false });
    await fx.store.messages.append(
      CONTENTS.map(([channel, content], i) => ({
        id: ids[i]!,
        channel_id: channel,
        author: { id: 'u1', username: 'one' },
        content,
      })),
    );
  });
  after(async () => fx?.close());

  const search = (channels: string[], q: string, opts: { before?: string; limit?: number } = {}) =>
    fx.store.search.search(channels, { terms: searchTerms(q), limit: opts.limit ?? 50, before: opts.before });
  const idsOf = async (p: Promise<{ id: string }[]>) => (await p).map((m) => m.id);

  it('creates the text index with language "none"', async () => {
    const indexes = await fx.db.collection('messages').listIndexes().toArray();
    const text = indexes.find((i) => i.name === SEARCH_INDEX.name);
    assert.ok(text, `indexes: ${indexes.map((i) => i.name)}`);
    assert.equal(text.default_language, 'none');
  });

  it('finds the messages holding every word, in the given channels only, newest first', async () => {
    assert.deepEqual(await idsOf(search(['c1', 'c2'], 'release')), [ids[5], ids[2], ids[1], ids[0]]);
    assert.deepEqual(await idsOf(search(['c1', 'c2'], 'RELEASE the')), [ids[2], ids[1], ids[0]]);
    assert.deepEqual(await idsOf(search(['c1', 'c2'], 'release notes')), [ids[1]]);
    assert.deepEqual(await idsOf(search(['c1', 'c2'], 'cafe')), [ids[2]]);
    assert.deepEqual(await idsOf(search(['c1', 'c2'], 'secret')), [], 'c3 is not searched');
    assert.deepEqual(await idsOf(search([], 'release')), []);
    const [hit] = await search(['c3'], 'plan');
    assert.deepEqual(
      { id: hit?.id, channel_id: hit?.channel_id, content: hit?.content, edited: hit?.edited_timestamp },
      { id: ids[3], channel_id: 'c3', content: 'secret release plan', edited: null },
    );
  });

  it('pages with before: each match once, in order', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await search(['c1', 'c2', 'c3'], 'release', { limit: 2, before: cursor });
      if (page.length === 0) break;
      seen.push(...page.map((m) => m.id));
      cursor = page.at(-1)!.id;
    }
    assert.deepEqual(seen, [ids[5], ids[3], ids[2], ids[1], ids[0]]);
  });

  it('a deleted message no longer matches; an edited one matches its new words only', async () => {
    await fx.store.messages.applyDelete({ message_id: ids[0]!, channel_id: 'c1', author_id: 'u1', event_id: id(100) });
    assert.deepEqual(await idsOf(search(['c1'], 'deploy')), []);
    await fx.store.messages.applyEdit({
      message_id: ids[4]!,
      channel_id: 'c1',
      author_id: 'u1',
      event_id: id(101),
      content: 'now it is relevant to the launch',
    });
    assert.deepEqual(await idsOf(search(['c1'], 'nothing')), []);
    assert.deepEqual(await idsOf(search(['c1'], 'launch relevant')), [ids[4]]);
  });

  it('refuses terms that are not words, and an empty query', async () => {
    await assert.rejects(fx.store.search.search(['c1'], { terms: [], limit: 5 }), ValidationError);
    await assert.rejects(fx.store.search.search(['c1'], { terms: ['a"b'], limit: 5 }), ValidationError);
    await assert.rejects(fx.store.search.search(['c1'], { terms: ['-x'], limit: 5 }), ValidationError);
  });
});
