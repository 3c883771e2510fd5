// The one place tests get a MongoDB from: the real server named by MONGO_URL when it is set,
// otherwise the in-memory stand-in (docs/design.md §5). testkit is the test harness, so reading the
// environment here is its job; libraries under test receive the URL.

import { type MongoStandInOptions, startMongoStandIn } from './server.js';

/** Options of startMongo. */
export interface StartMongoOptions extends MongoStandInOptions {
  /** Connection string of a real MongoDB. Default: process.env.MONGO_URL; empty means unset. */
  url?: string | undefined;
}

/** A MongoDB to test against. */
export interface MongoHandle {
  url: string;
  /** True when `url` points at the in-memory stand-in rather than a real server. */
  standIn: boolean;
  /** Stops the stand-in; a no-op for a real server (its data is the test's to clean up). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startMongo(opts: StartMongoOptions = {}): Promise<MongoHandle> {
  const url = opts.url || process.env.MONGO_URL;
  if (url) {
    const close = async () => {};
    return { url, standIn: false, close, [Symbol.asyncDispose]: close };
  }
  const standIn = await startMongoStandIn(opts);
  return { url: standIn.url, standIn: true, close: standIn.close, [Symbol.asyncDispose]: standIn.close };
}
