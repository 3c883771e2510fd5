// Helpers of the infra-* tests that read the shipped files: YAML parsing and the metric names the
// services define.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** YAML → data through PyYAML, which docker-compose (Python) brings along. */
export function yaml(text: string): unknown {
  const json = execFileSync(
    'python3',
    ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    {
      input: text,
      encoding: 'utf8',
    },
  );
  return JSON.parse(json);
}

/** Metric names the services define: prom-client `name:` in their metrics sources (the router's with its prefix). */
export function definedMetrics(): Set<string> {
  const sources: Array<[string, string]> = [
    ['packages/gateway/src/metrics.ts', ''],
    ['packages/persister/src/metrics.ts', ''],
    ['packages/router/src/internal/metrics.ts', 'chat_router_'],
  ];
  const names = new Set<string>();
  for (const [file, prefix] of sources) {
    const text = readFileSync(`${REPO}${file}`, 'utf8');
    for (const m of text.matchAll(/name:\s*['`]([^'`]+)['`]/g)) names.add(m[1]!.replace(/^\$\{prefix\}/, prefix));
  }
  return names;
}

/** chat_* metric names an expression uses, without the histogram series suffixes. */
export function chatMetricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bchat_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}
