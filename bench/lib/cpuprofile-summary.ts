/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof DIR`):
 * the functions with the most self time and the most total (inclusive) time, with file:line.
 *
 *   node dist/bench/lib/cpuprofile-summary.js FILE.cpuprofile [--top 25] [--filter TEXT]
 *
 * --filter keeps only the functions whose url contains TEXT in the "total" list (e.g.
 * `adapters/` or `imapflow`). Lines are 1-based (the profile's are 0-based).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function isProfile(v: unknown): v is CpuProfile {
  const o = v as Partial<CpuProfile> | null;
  return typeof o === 'object' && o !== null && Array.isArray(o.nodes) && Array.isArray(o.samples) && Array.isArray(o.timeDeltas);
}

function where(f: CallFrame): string {
  const url = f.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'node_modules/')
    .replace(/^\/work\/main\/dist\//, 'dist/');
  return `${f.functionName || '(anonymous)'} ${url === '' ? '(native)' : `${url}:${f.lineNumber + 1}`}`;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly self: readonly { readonly name: string; readonly ms: number }[];
  readonly total: readonly { readonly name: string; readonly ms: number }[];
}

export function summarizeProfile(p: CpuProfile): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (const [id, us] of selfUs) {
    all += us;
    const node = byId.get(id);
    if (node === undefined) continue;
    const key = where(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    // Inclusive time: count each distinct frame once per sample stack (recursion).
    const seen = new Set<string>();
    for (let cur: number | undefined = id, guard = 0; cur !== undefined && guard < 10_000; cur = parent.get(cur), guard++) {
      const n = byId.get(cur);
      if (n === undefined) break;
      const k = where(n.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const sorted = (m: Map<string, number>): { name: string; ms: number }[] => [...m].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: all / 1000, self: sorted(self), total: sorted(total) };
}

function main(): number {
  // `| head` closes the pipe early: not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const argv = process.argv.slice(2);
  let top = 25;
  let filter: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--top') top = Number(argv[++i]);
    else if (a === '--filter') filter = argv[++i];
    else files.push(a);
  }
  if (files.length === 0 || !Number.isInteger(top) || top < 1) {
    process.stderr.write('usage: cpuprofile-summary FILE.cpuprofile [--top N] [--filter TEXT]\n');
    return 2;
  }
  for (const file of files) {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isProfile(parsed)) {
      process.stderr.write(`${file}: not a V8 CPU profile\n`);
      return 1;
    }
    const s = summarizeProfile(parsed);
    const idle = s.self.filter((x) => /^\((idle|program|garbage collector)\)/.test(x.name)).map((x) => `${x.name.split(' ')[0]} ${x.ms.toFixed(0)} ms`);
    process.stdout.write(`${file}: ${s.totalMs.toFixed(0)} ms sampled (${idle.join(', ')})\n`);
    process.stdout.write(`\nself time, top ${top}:\n`);
    for (const x of s.self.slice(0, top)) process.stdout.write(`${x.ms.toFixed(1).padStart(9)} ms  ${x.name}\n`);
    process.stdout.write(`\ntotal time${filter === undefined ? '' : ` (${filter})`}, top ${top}:\n`);
    for (const x of s.total.filter((t) => filter === undefined || t.name.includes(filter)).slice(0, top))
      process.stdout.write(`${x.ms.toFixed(1).padStart(9)} ms  ${x.name}\n`);
    process.stdout.write('\n');
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
