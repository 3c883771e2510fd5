// @chat/gateway — embeddable pieces (the service itself is main.ts).

export { CloseCode, Op } from '@chat/protocol';
export { createTokenService, type TokenClaims, type TokenService } from './auth.js';
export { DEFAULT_GROUP_ID } from './chat-service.js';
export { ConfigError, type GatewayConfig, loadConfig } from './config.js';
export { API_ERRORS, ApiError, type ApiErrorCode } from './errors.js';
export { createGateway, type Gateway, type GatewayDeps } from './gateway.js';
