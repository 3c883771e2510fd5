// The static channel membership of one run (PeerStartOptions.channels): written to a file by the
// parent, read once by every server process. Lookups both ways; unknown ids are simply not members.
import { readFile, writeFile } from 'node:fs/promises';
import type { PeerChannel } from '../peer.js';

export class Membership {
  readonly #members = new Map<string, readonly string[]>();
  readonly #memberSets = new Map<string, ReadonlySet<string>>();
  readonly #channelsOf = new Map<string, string[]>();

  constructor(channels: readonly PeerChannel[]) {
    for (const { id, members } of channels) {
      if (typeof id !== 'string' || !Array.isArray(members)) throw new TypeError('a channel is {id, members[]}');
      if (this.#members.has(id)) throw new RangeError(`channel ${id} is listed twice`);
      const unique = [...new Set(members)];
      this.#members.set(id, unique);
      this.#memberSets.set(id, new Set(unique));
      for (const user of unique) {
        const list = this.#channelsOf.get(user);
        if (list) list.push(id);
        else this.#channelsOf.set(user, [id]);
      }
    }
  }

  /** The channel's members (each once), or an empty list for an unknown channel. */
  members(channelId: string): readonly string[] {
    return this.#members.get(channelId) ?? [];
  }

  isMember(channelId: string, userId: string): boolean {
    return this.#memberSets.get(channelId)?.has(userId) ?? false;
  }

  channelsOf(userId: string): readonly string[] {
    return this.#channelsOf.get(userId) ?? [];
  }
}

export async function writeMembershipFile(path: string, channels: readonly PeerChannel[]): Promise<void> {
  await writeFile(path, JSON.stringify(channels));
}

export async function readMembershipFile(path: string): Promise<Membership> {
  return new Membership(JSON.parse(await readFile(path, 'utf8')) as PeerChannel[]);
}
