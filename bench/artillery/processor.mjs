// The processor file w1.yml and w2.yml name: loads processor.ts through tsx and re-exports its steps.
// (Artillery 2.0.34 would bundle a .ts processor into CommonJS under dist/processor.js, which Node
// then reads as ESM inside this "type": "module" package and fails.)
import { tsImport } from 'tsx/esm/api';

const steps = await tsImport('./processor.ts', import.meta.url);

export const { identify, awaitStart, sendMessage, finish } = steps;
