/**
 * What a test backend saw of the gateway's requests: when each arrived and ended, and how many
 * were in flight at once, per key (a backend user) and in all. Limits and pacing are asserted on
 * these server-side records, not on the test's own clock.
 */
import { performance } from 'node:perf_hooks';

export interface MeteredRequest {
  readonly key: string;
  readonly op: string;
  /** performance.now() when the request arrived. */
  readonly at: number;
  /** performance.now() when its answer was finished (or its connection closed); undefined while in flight. */
  end: number | undefined;
}

export class RequestMeter {
  /** Every request since the last reset, in order of arrival. */
  readonly requests: MeteredRequest[] = [];
  private readonly current = new Map<string, number>();
  private readonly peaks = new Map<string, number>();
  private total = 0;
  private peakTotal = 0;

  /** Counts a request as in flight until the returned function is called (later calls do nothing). */
  begin(key: string, op: string, at = performance.now()): () => void {
    const entry: MeteredRequest = { key, op, at, end: undefined };
    this.requests.push(entry);
    const now = (this.current.get(key) ?? 0) + 1;
    this.current.set(key, now);
    this.peaks.set(key, Math.max(this.peaks.get(key) ?? 0, now));
    this.total++;
    this.peakTotal = Math.max(this.peakTotal, this.total);
    return () => {
      if (entry.end !== undefined) return;
      entry.end = performance.now();
      this.current.set(key, (this.current.get(key) ?? 1) - 1);
      this.total--;
    };
  }

  inFlight(key: string): number {
    return this.current.get(key) ?? 0;
  }

  /** The most requests of `key` in flight at once since the last reset. */
  peak(key: string): number {
    return this.peaks.get(key) ?? 0;
  }

  /** The most requests of all keys together in flight at once since the last reset. */
  get peakAll(): number {
    return this.peakTotal;
  }

  /** Requests of `key` (and `op`, when given), in order of arrival. */
  of(key: string, op?: string): MeteredRequest[] {
    return this.requests.filter((r) => r.key === key && (op === undefined || r.op === op));
  }

  /** Forgets the records; requests still in flight keep counting (and so start the new peaks). */
  reset(): void {
    this.requests.length = 0;
    this.peaks.clear();
    for (const [key, n] of this.current) if (n > 0) this.peaks.set(key, n);
    this.peakTotal = this.total;
  }
}
