// @chat/gateway — embeddable pieces (the service itself is main.ts).
export { createGateway, type Gateway, type GatewayDeps } from './gateway.js';
export { ConfigError, loadConfig, type GatewayConfig } from './config.js';
export { createTokenService, type TokenClaims, type TokenService } from './auth.js';
export { API_ERRORS, ApiError, type ApiErrorCode } from './errors.js';
export { Close, Op } from './protocol.js';
export { DEFAULT_GROUP_ID } from './chat-service.js';
