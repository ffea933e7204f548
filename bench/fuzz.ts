/**
 * The long run of the POP3 socket fuzzer (test/helpers/pop3-fuzz.ts; the bounded run is
 * test/protocol/fuzz.test.ts):
 *
 *   node dist/bench/fuzz.js [--runs 20000] [--seed N] [--users 3] [--unterminated-overlong]
 *
 * A popgate child with Maildir users; `--users` sessions at a time (one per user). Prints the
 * seed, progress, and at the end the counts and memory (RSS, and live memory after a full GC).
 * Exits 1 with the failing session's input on the first violation.
 */
import { parseArgs } from 'node:util';
import { FUZZ_OVERLONG_WITHOUT_LINE_END, FuzzFailure, fuzz, startFuzzGateway } from '../test/helpers/pop3-fuzz.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    users: { type: 'string', default: '3' },
    'unterminated-overlong': { type: 'boolean', default: false },
  },
  strict: true,
});
const runs = Number(values.runs);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const users = Number(values.users);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed) || !Number.isInteger(users) || users < 1) {
  console.error('usage: node dist/bench/fuzz.js [--runs N] [--seed N] [--users N] [--unterminated-overlong]');
  process.exit(2);
}
const unterminatedOverlong = values['unterminated-overlong'] || FUZZ_OVERLONG_WITHOUT_LINE_END;
console.log(`fuzz: seed ${seed}, ${runs} sessions, ${users} at a time${unterminatedOverlong ? ', with over-long lines without line end' : ''}`);

const gw = await startFuzzGateway(users);
const started = Date.now();
let code = 0;
try {
  const report = await fuzz(gw, {
    seed,
    runs,
    unterminatedOverlong,
    onProgress: (done) => {
      if (done % 1000 === 0) console.log(`  ${done} sessions, ${Math.round((Date.now() - started) / 1000)} s, RSS ${Math.round(gw.memory().rss / 1048576)} MB`);
    },
  });
  const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;
  console.log(
    `fuzz: ${report.sessions} sessions, ${report.lines} answered lines, ${report.deletions} deletions, ${report.serverCloses} sessions closed by the server, ${Math.round((Date.now() - started) / 1000)} s`,
  );
  console.log(
    `memory: RSS ${mb(report.rssStart)} -> ${mb(report.rssEnd)} (peak ${mb(report.rssPeak)}), live after GC ${mb(report.heapStart)} -> ${mb(report.heapEnd)}`,
  );
} catch (err) {
  console.error(err instanceof FuzzFailure ? err.message : err);
  code = 1;
} finally {
  await gw.stop();
}
process.exit(code);
