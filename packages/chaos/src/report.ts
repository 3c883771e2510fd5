// The Markdown result of a scenario run: the totals table of issue #13 (faults injected, acked, stored,
// delivered, missing, duplicated, out of order, recovery times), one line per fault, and the verdict.
import type { RunOutcome } from './run.js';
import type { Scenario } from './scenarios.js';

function ms(v: number | null): string {
  return v === null ? 'never' : `${(v / 1000).toFixed(1)} s`;
}

export function renderReport(
  sc: Scenario,
  o: { seed: number; clients: number; durationS: number },
  run: RunOutcome,
): string {
  const { stats, violations, recoveries, firstStory } = run.result;
  const byRule = new Map<string, number>();
  for (const v of violations) byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);
  const lines = [
    `# ${sc.title}`,
    '',
    `Command: \`npm run -w @chat/chaos scenario -- ${sc.name} --seed ${o.seed} --clients ${o.clients} --duration ${o.durationS}\``,
    `Run at ${new Date(run.history.endedAt).toISOString()}.`,
    '',
    '| faults | sent | acked | refused | unanswered | stored | delivered | missing | duplicated | wire copies dropped by the SDK | live out of order | violations |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${stats.faults} | ${stats.sent} | ${stats.acked} | ${stats.refused} | ${stats.unknown} | ${stats.stored} | ${stats.delivered} | ${stats.missing} | ${stats.duplicated} | ${stats.wireDuplicates} | ${stats.outOfOrder} | ${violations.length} |`,
    '',
  ];
  if (recoveries.length > 0) {
    lines.push(
      '| fault | target | lasted | first ack after | every other gateway delivering after | goal (first ack) |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const r of recoveries) {
      const f = r.fault;
      const miss = r.goalMs !== null && (r.firstAckMs === null || r.firstAckMs > r.goalMs) ? ' (missed)' : '';
      lines.push(
        `| ${f.name} | ${f.target} | ${ms(f.end - f.start)} | ${ms(r.firstAckMs)} | ${ms(r.allGatewaysDeliverMs)} | ${r.goalMs === null ? '—' : `< ${ms(r.goalMs)}${miss}`} |`,
      );
    }
    lines.push('');
  }
  for (const e of run.history.exits) {
    lines.push(
      `- ${e.service} exited on its own (${e.exit}) and was restarted: ${e.lastLines.at(-1)?.slice(0, 300) ?? ''}`,
    );
  }
  if (run.history.exits.length > 0) lines.push('');
  if (run.hostile) {
    const h = run.hostile;
    lines.push(
      `Hostile side: ${h.floods} flood writes, ${h.forged} forged-token IDENTIFYs, ${h.probes} probes of honest channels, ${h.stalled} non-reading sockets.`,
      '',
    );
  }
  lines.push(
    violations.length === 0
      ? '**Zero violations.**'
      : `**${violations.length} violations**: ${[...byRule].map(([r, n]) => `${r} × ${n}`).join(', ')}.`,
  );
  if (firstStory) lines.push('', 'The first violating message:', '', '```', firstStory, '```');
  return `${lines.join('\n')}\n`;
}
