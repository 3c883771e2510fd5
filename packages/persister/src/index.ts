// @chat/persister — embeddable pieces of the persister service (the service itself is main.ts).

export type { Logger } from '@chat/protocol';
export { ConfigError, loadConfig, type PersisterConfig } from './config.js';
export { type HttpOptions, startHttp } from './http.js';
export { resolvePersisterOptions } from './options.js';
export {
  createPersister,
  type Persister,
  type PersisterOptions,
  type ResolvedPersisterOptions,
} from './persister.js';
export { type ValidWrite, validateWrite } from './validate.js';
