// @chat/service-kit — what the gateway and persister processes share (see README.md).
export { amqpTls, amqpUrls } from './amqp.js';
export { type ConnectOptions, connectWithRetry } from './connect.js';
export { type DeploymentSettings, deploymentSettings } from './deployment.js';
export { bool, ConfigError, duration, type Env, int, list, refusePlaceholders, str, url } from './env.js';
export { exponentialDelay, type RetryOptions, retryUntil, sleep } from './retry.js';
export { closeInOrder, exitOnSignals, type ShutdownOptions } from './shutdown.js';
export { loadOrExit } from './startup.js';
