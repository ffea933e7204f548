/** Host name -> value: exact names first, then the most specific matching wildcard. */
import { patternText, type DomainPattern } from './domain-name.js';

export class DomainTable<T> {
  private readonly exact = new Map<string, T>();
  /** Longest suffix first, so `*.a.example.com` wins over `*.example.com`. */
  private wildcards: { readonly suffix: string; readonly value: T }[] = [];

  /** Adds a pattern; returns the value already holding it (a collision), if any. */
  add(pattern: DomainPattern, value: T): T | undefined {
    if (pattern.kind === 'exact') {
      const held = this.exact.get(pattern.name);
      if (held !== undefined) return held;
      this.exact.set(pattern.name, value);
      return undefined;
    }
    const held = this.wildcards.find((w) => w.suffix === pattern.suffix);
    if (held !== undefined) return held.value;
    this.wildcards = [...this.wildcards, { suffix: pattern.suffix, value }].sort((a, b) => b.suffix.length - a.suffix.length);
    return undefined;
  }

  /** `host` must already be normalised (lower-case A-labels). */
  match(host: string): { readonly value: T; readonly pattern: string } | undefined {
    const exact = this.exact.get(host);
    if (exact !== undefined) return { value: exact, pattern: host };
    const wildcard = this.wildcards.find((w) => host.length > w.suffix.length && host.endsWith(w.suffix));
    return wildcard === undefined ? undefined : { value: wildcard.value, pattern: patternText({ kind: 'wildcard', suffix: wildcard.suffix }) };
  }

  get size(): number {
    return this.exact.size + this.wildcards.length;
  }
}
