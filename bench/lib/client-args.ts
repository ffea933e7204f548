/** Command-line parsing shared by the benchmark clients (node:util parseArgs, strict). */
import { parseArgs } from 'node:util';

export interface ClientArgs {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly flags: ReadonlySet<string>;
  /** A whole-number option, or `def` when absent. */
  int(name: string, def: number): number;
  /** A whole-number option, or undefined when absent. */
  optionalInt(name: string): number | undefined;
  text(name: string): string | undefined;
}

/** `HOST PORT USER PASSWORD` then `--name value` options and boolean `--flags`. */
export function parseClientArgs(argv: readonly string[], usage: string, valued: readonly string[], booleans: readonly string[]): ClientArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const n of valued) options[n] = { type: 'string' };
  for (const n of booleans) options[n] = { type: 'boolean' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${usage}`, { cause: err });
  }
  const [host, port, user, password, ...extra] = parsed.positionals;
  if (host === undefined || port === undefined || user === undefined || password === undefined || extra.length > 0) throw new Error(usage);
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65_535) throw new Error(`bad port ${port}`);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const text = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const optionalInt = (name: string): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a whole number`);
    return Number(v);
  };
  return {
    host,
    port: Number(port),
    user,
    password,
    flags: new Set(booleans.filter((b) => values[b] === true)),
    int: (name, def) => optionalInt(name) ?? def,
    optionalInt,
    text,
  };
}
