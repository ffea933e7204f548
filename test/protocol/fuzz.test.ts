/**
 * Socket fuzzer against a live popgate child (Maildir users): see test/helpers/pop3-fuzz.ts for
 * what is generated and checked. Bounded for CI: fixed seed (printed), POPGATE_FUZZ_SEED and
 * POPGATE_FUZZ_RUNS override; `node dist/bench/fuzz.js --runs N` is the long run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fuzz, startFuzzGateway, type FuzzGateway } from '../helpers/pop3-fuzz.js';

const SEED = process.env.POPGATE_FUZZ_SEED !== undefined ? Number(process.env.POPGATE_FUZZ_SEED) : 1939;
const RUNS = process.env.POPGATE_FUZZ_RUNS !== undefined ? Number(process.env.POPGATE_FUZZ_RUNS) : 1500;
/**
 * Live memory (JS heap + Buffers after a full GC in the child, see gc-probe.ts) may not grow by
 * more than this over the run: measured ~2.5 MB after 600 and after 3,000 sessions alike (caches
 * warming up: auth cache, size cache, V8 code), so a leak of even 1 KB per session shows.
 */
const LIVE_GROWTH_BOUND = 8 * 1024 * 1024;
/**
 * Peak resident set. RSS is not live memory: V8 lets the young generation reach 3 x 32 MiB
 * (--max-semi-space-size=32) and the old one grow 4x its live size (~30 MB) before collecting
 * (--heap-growing-percent=300), and freed Buffers stay in malloc arenas: ~210 MB after 600
 * sessions, ~260 MB after 3,000 (flat live memory). 400 MB catches runaway buffering (a 64 KiB
 * line kept per connection, output queued without limit) without tripping on V8's sizing.
 */
const PEAK_RSS_BOUND = 400 * 1024 * 1024;

describe('POP3 socket fuzzer (bounded)', () => {
  let gw: FuzzGateway;
  before(async () => {
    gw = await startFuzzGateway(3);
  });
  after(async () => {
    await gw?.stop();
  });

  it(`survives ${RUNS} random sessions (seed ${SEED}) with well-formed answers, an unchanged Maildir and bounded memory`, async () => {
    console.log(`fuzz seed ${SEED}, ${RUNS} sessions (POPGATE_FUZZ_SEED / POPGATE_FUZZ_RUNS to change)`);
    // Warm-up: a few sessions first, so the RSS growth measured is the fuzzing's, not start-up's.
    await fuzz(gw, { seed: SEED + 1_000_000, runs: 30 });
    const started = Date.now();
    const report = await fuzz(gw, { seed: SEED, runs: RUNS });
    console.log(`fuzz: ${JSON.stringify(report)} in ${Date.now() - started} ms`);
    assert.equal(report.sessions, RUNS);
    assert.ok(report.rssPeak < PEAK_RSS_BOUND, `peak RSS ${report.rssPeak} >= ${PEAK_RSS_BOUND}`);
    assert.ok(report.heapEnd - report.heapStart < LIVE_GROWTH_BOUND, `live memory grew by ${report.heapEnd - report.heapStart} octets`);
  });
});
