// One broken promise found by the checker: which rule, which message (id and/or its nonce key), which
// client, and a one-line detail. The checker prints the whole story of the first one.

export interface Violation {
  rule: string;
  id?: string;
  /** `channel author nonce` of the write (history-index.ts nonceKey). */
  nonceKey?: string;
  client?: string;
  detail: string;
}
