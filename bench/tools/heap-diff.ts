// Profiling aid for W3 (`w3 --heap-snapshots DIR` writes the snapshots): compares two V8 heap
// snapshots by constructor — count and shallow (self) size of every node type/name — and prints the
// rows that grew most, per connection when the connection count is given.
//
//   node --max-old-space-size=8192 --import tsx bench/tools/heap-diff.ts before.heapsnapshot after.heapsnapshot [connections] [rows]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Totals = Map<string, { count: number; size: number }>;

function totals(path: string): Totals {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out: Totals = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = snap.strings[snap.nodes[i + iName]!]!;
    const key =
      type === 'object' || type === 'native'
        ? `${type} ${name}`
        : type === 'closure'
          ? `closure ${name || '(anonymous)'}`
          : type === 'array' || type === 'hidden' || type === 'code' || type === 'object shape'
            ? `${type} ${name.slice(0, 60)}`
            : `(${type})`;
    const t = out.get(key) ?? { count: 0, size: 0 };
    t.count++;
    t.size += snap.nodes[i + iSize]!;
    out.set(key, t);
  }
  return out;
}

const [beforePath, afterPath, connArg, rowsArg] = process.argv.slice(2);
if (!beforePath || !afterPath) {
  console.error('usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [connections] [rows]');
  process.exit(2);
}
const conns = Number(connArg ?? 1);
const rows = Number(rowsArg ?? 30);
const a = totals(beforePath);
const b = totals(afterPath);
const diff = [...new Set([...a.keys(), ...b.keys()])].map((k) => {
  const x = a.get(k) ?? { count: 0, size: 0 };
  const y = b.get(k) ?? { count: 0, size: 0 };
  return { k, count: y.count - x.count, size: y.size - x.size };
});
diff.sort((p, q) => q.size - p.size);
const sum = (t: Totals) => [...t.values()].reduce((n, v) => n + v.size, 0);
console.log(
  `total shallow: before ${(sum(a) / 1048576).toFixed(1)} MiB, after ${(sum(b) / 1048576).toFixed(1)} MiB, ` +
    `Δ ${((sum(b) - sum(a)) / 1024 / conns).toFixed(3)} KiB per connection (${conns})`,
);
console.log('| constructor / type | Δ count | Δ count per conn | Δ bytes per conn |');
console.log('|---|---:|---:|---:|');
for (const d of diff.slice(0, rows)) {
  console.log(
    `| ${d.k.replace(/\|/g, '\\|')} | ${d.count} | ${(d.count / conns).toFixed(2)} | ${(d.size / conns).toFixed(1)} |`,
  );
}
