// A tiny table printer. The output is a Markdown table (aligned in plain text too), so the same
// string goes to the terminal and into bench/results/<scenario>.md.

export type Cell = string | number | boolean | undefined | null;

export interface Column {
  /** Header text. */
  title: string;
  /** Right-align. Default: when every cell of the column is a number, a percentage, a ratio or —. */
  right?: boolean;
}

/** Formats rows under headers as an aligned Markdown table. */
export function formatTable(columns: ReadonlyArray<string | Column>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string {
  const cols: Column[] = columns.map((c) => (typeof c === 'string' ? { title: c } : c));
  const text = rows.map((row) => cols.map((_, i) => cellText(row[i])));
  const right = cols.map((c, i) => c.right ?? (text.length > 0 && text.every((r) => NUMERIC.test(r[i]!))));
  const widths = cols.map((c, i) => Math.max(3, c.title.length, ...text.map((r) => r[i]!.length)));
  const pad = (s: string, i: number) => (right[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(cols.map((c) => c.title)), rule, ...text.map(line)].join('\n');
}

const NUMERIC = /^(—|[-+]?[\d,]*\.?\d+ ?(%|×|ms|s)?)$/;

function cellText(value: Cell): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'NO';
  if (typeof value === 'number') return fmt(value);
  return value.replace(/\|/g, '\\|');
}

/** A number for humans: thousands separators, at most `digits` decimals (fewer for big values). */
export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const d = digits ?? (Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** A ratio such as `9.8×`. */
export function ratio(numerator: number, denominator: number, digits = 2): string {
  if (!(denominator > 0) || !Number.isFinite(numerator)) return '—';
  return `${fmt(numerator / denominator, digits)}×`;
}

/** A percentage of one core, e.g. `87%`, or — when unknown. */
export function pct(value: number | undefined): string {
  return value === undefined ? '—' : `${fmt(value, 0)}%`;
}
