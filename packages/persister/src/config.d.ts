export interface PersisterConfig {
    readonly amqpUrls: readonly string[];
    readonly mongoUrl: string;
    readonly mongoDb: string;
    /** Empty: no membership cache (membership read from MongoDB). */
    readonly redisUrl: string;
    readonly prefix: string;
    readonly partitions: number;
    readonly slots: number;
    readonly granularity: 'slot' | 'user';
    readonly persistDeliveryLimit: number;
    readonly persistMaxLength: number;
    readonly prefetch: number;
    readonly batchSize: number;
    readonly batchMs: number;
    readonly maxContentLength: number;
    readonly httpHost: string;
    readonly httpPort: number;
    readonly shutdownTimeoutMs: number;
    readonly logLevel: string;
    readonly serverId: string;
    /** AMQP users whose durable writes are accepted; empty: only the persister's own AMQP user. */
    readonly writers: readonly string[];
    /** Declare the shared RabbitMQ topology at connect (false: only check it exists; least-privilege accounts). */
    readonly declareTopology: boolean;
}
export declare class ConfigError extends Error {
    readonly code = "CONFIG_INVALID";
}
type Env = Record<string, string | undefined>;
/** Documented in packages/persister/README.md; every variable has a default. */
export declare function loadConfig(env?: Env): PersisterConfig;
export {};
//# sourceMappingURL=config.d.ts.map