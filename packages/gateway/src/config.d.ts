export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly serverId: string;
  readonly amqpUrls: readonly string[];
  readonly mongoUrl: string;
  readonly mongoDb: string;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly partitions: number;
  readonly slots: number;
  readonly granularity: 'slot' | 'user';
  readonly attachLingerMs: number;
  readonly jwtSecret: string;
  readonly jwtTtlSeconds: number;
  readonly defaultGroup: string;
  readonly heartbeatIntervalMs: number;
  readonly identifyTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly rateFrames: number;
  readonly rateWindowMs: number;
  readonly rateBurst: number;
  readonly userRateRequests: number;
  readonly httpRateRequests: number;
  readonly maxContentLength: number;
  readonly maxBackpressureBytes: number;
  readonly slowConsumerGraceMs: number;
  readonly resumeMax: number;
  readonly httpBodyMaxBytes: number;
  readonly drainTimeoutMs: number;
  readonly trustProxy: boolean;
  /** Declare the shared RabbitMQ topology at connect (false: only check it exists; least-privilege accounts). */
  readonly declareTopology: boolean;
  readonly persistDeliveryLimit: number;
  readonly persistMaxLength: number;
  readonly maxInflightWrites: number;
  readonly maxInflightWritesPerConnection: number;
  readonly overloadRetryAfterMs: number;
  readonly overloadConfirmTargetMs: number;
  readonly logLevel: string;
  /** V8's young-generation growth factor (V8_SEMI_SPACE_GROWTH): 1 keeps the semi-spaces at their initial size. */
  readonly semiSpaceGrowth: number;
}
export declare class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}
type Env = Record<string, string | undefined>;
/** Every variable is documented in packages/gateway/README.md. */
export declare function loadConfig(env?: Env): GatewayConfig;
//# sourceMappingURL=config.d.ts.map
