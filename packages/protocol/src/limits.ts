// The protocol's limits (docs/protocol.md §4–6). Services may lower or raise the content limit by
// configuration (MAX_CONTENT_LENGTH); the others are fixed by the protocol.

/** Default longest message content, in code points after trimming. */
export const DEFAULT_MAX_CONTENT_LENGTH = 4000;
/** Longest client nonce, in UTF-16 code units. */
export const MAX_NONCE_LENGTH = 64;
/** Longest author id or username carried in a durable write, in UTF-16 code units. */
export const MAX_SHORT_STRING = 64;
/** Messages per history page: default and bounds. */
export const HISTORY_LIMIT = { default: 50, min: 1, max: 100 } as const;
