export type { Logger } from '@chat/protocol';
export { AmqpLeakError, RabbitCommandError, RabbitNodeError, TestkitError } from './errors.js';
export {
  type AmqpLeaks,
  type AssertNoAmqpLeaksOptions,
  amqpLeaks,
  assertNoAmqpLeaks,
  installAmqpLeakCheck,
  registerAmqpPort,
  useAmqpLeakCheck,
} from './leak-check.js';
export {
  type MongoHandle,
  type MongoStandIn,
  type MongoStandInOptions,
  type StandInLogger,
  type StartMongoOptions,
  startMongo,
  startMongoStandIn,
} from './mongo/index.js';
export { NGINX_TEMPLATE, type Nginx, type NginxOptions, renderChatConf, renderNginxConf, startNginx } from './nginx.js';
export { freePort, type ServiceProcess, spawnService, waitFor } from './processes.js';
export {
  PROMETHEUS_CONFIG,
  type Prometheus,
  type PrometheusRule,
  type PrometheusSample,
  type PrometheusTarget,
  prometheusJobs,
  type RenderPrometheusOptions,
  renderPrometheusConfig,
  type StartPrometheusOptions,
  startPrometheus,
} from './prometheus.js';
export {
  amqpUrl,
  type CloseConnectionsOptions,
  type CtlTarget,
  closeClientConnections,
  type DeletedNames,
  type DeleteNames,
  deleteByPrefix,
  type ListOptions,
  listExchanges,
  listQueues,
  queueMessages,
  uniquePrefix,
} from './rabbit.js';
export {
  type QuorumLeader,
  type RabbitCluster,
  type RabbitClusterOptions,
  type RabbitNode,
  type RabbitNodeOptions,
  startRabbitCluster,
  startRabbitNode,
} from './rabbit-nodes.js';
export { type RedisServer, startRedisServer } from './redis-server.js';
export { startTcpBalancer, startTcpProxy, type TcpBalancer, type TcpProxy } from './tcp-proxy.js';
export { makeTestCertificates, type TestCertificates } from './tls-certificates.js';
