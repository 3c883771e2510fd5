// Every system the `peers` scenario compares, in the order it runs them. Adding one is one line here.
import { oursSystem } from './ours.js';
import type { PeerSystem } from './peer.js';
import { seedSystems } from './seeds/index.js';
import { socketioSystem } from './socketio/index.js';

export const peerSystems: readonly PeerSystem[] = [oursSystem, socketioSystem, ...seedSystems];
