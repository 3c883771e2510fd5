// Loads uWebSockets.js and refuses a JavaScript fallback. The npm build we use
// (@trufflesuite/uws-js-unofficial, docs/design.md §8) silently falls back to a slow `ws`-based
// implementation when its native addon fails to load; only the native build exports getParts.
import uws from 'uWebSockets.js';

export class NativeUwsMissingError extends Error {
  readonly code = 'UWS_NOT_NATIVE';
}

export function loadNativeUws(): typeof uws {
  if (typeof (uws as { getParts?: unknown }).getParts !== 'function') {
    throw new NativeUwsMissingError(
      'uWebSockets.js did not load its native addon (it fell back to a JavaScript implementation); refusing to start',
    );
  }
  return uws;
}
