/**
 * A POP3 socket fuzzer: random and mutated command lines (from a grammar of real POP3 commands),
 * SASL exchanges and pipelined bursts against a live popgate child process with Maildir users.
 * Used by test/protocol/fuzz.test.ts (bounded, fixed seed) and bench/fuzz.ts (long runs).
 *
 * Every reply is parsed in step with what was sent: each LF-terminated line the server can see
 * gets exactly one answer, `+OK`/`-ERR` lines at most 512 octets, SASL `+ <base64>` only inside
 * an AUTH exchange, and a multi-line body (until the lone ".") only after `+OK` to CAPA,
 * LIST/UIDL without argument, RETR, TOP and AUTH without argument. A RETR body must be the
 * message's bytes. The server may close only after QUIT, or right after an `-ERR` once
 * `maxBadCommands` errors were answered, or right after the `-ERR` to a line over 255 octets
 * (the planned line-limit fix closes then). After each session the user's Maildir must be
 * unchanged, unless the session deleted with DELE and a clean QUIT (then exactly those files
 * are gone; they are put back). At the end the process must still serve a well-behaved session,
 * and its memory stay bounded.
 *
 * The parts live in test/helpers/fuzz/: rng.ts (the seeded Rng), gateway.ts (the popgate child
 * and its users), generate.ts (the sessions sent) and check.ts (running and checking one
 * session). This file holds the run loop.
 */
import { runSession, wellBehavedSession } from './fuzz/check.js';
import { type FuzzGateway } from './fuzz/gateway.js';
import { generateSession, type FuzzSession } from './fuzz/generate.js';
import { Rng } from './fuzz/rng.js';

export { startFuzzGateway, type FuzzGateway } from './fuzz/gateway.js';

/**
 * Sessions may end in an over-long line with no line end at all, then silence: the gateway must
 * answer `-ERR` and close as soon as the limit is passed (it once waited for the line end for
 * ever). POPGATE_FUZZ_UNTERMINATED_OVERLONG=0 leaves that case out.
 */
export const FUZZ_OVERLONG_WITHOUT_LINE_END = process.env.POPGATE_FUZZ_UNTERMINATED_OVERLONG !== '0';

export interface FuzzReport {
  readonly seed: number;
  readonly sessions: number;
  readonly lines: number;
  readonly deletions: number;
  readonly serverCloses: number;
  readonly rssStart: number;
  readonly rssEnd: number;
  readonly rssPeak: number;
  /** JS heap after a full GC, before and after the run. */
  readonly heapStart: number;
  readonly heapEnd: number;
}

export class FuzzFailure extends Error {
  constructor(
    message: string,
    readonly session: FuzzSession,
  ) {
    super(message);
  }
}

/**
 * Runs `runs` sessions over `workers` parallel users (each worker its own user, so no maildrop
 * lock is contended), all derived from `seed`. Throws FuzzFailure with the failing session.
 */
export async function fuzz(
  gw: FuzzGateway,
  opts: { seed: number; runs: number; unterminatedOverlong?: boolean; onProgress?: (done: number) => void },
): Promise<FuzzReport> {
  const workers = gw.users.length;
  const rssStart = gw.memory().rss;
  const heapStart = await gw.liveHeap();
  let sessions = 0;
  let lines = 0;
  let deletions = 0;
  let serverCloses = 0;
  await Promise.all(
    gw.users.map(async (user, w) => {
      const rng = new Rng(opts.seed * 31 + w);
      for (let i = w; i < opts.runs; i += workers) {
        const session = generateSession(rng, user, { unterminatedOverlong: opts.unterminatedOverlong ?? FUZZ_OVERLONG_WITHOUT_LINE_END });
        try {
          const o = await runSession(gw.port, user, session);
          lines += o.answered;
          deletions += o.deleted;
          if (o.closedByServer) serverCloses++;
        } catch (err) {
          const crashed = gw.exited();
          throw new FuzzFailure(
            `seed ${opts.seed}, session ${i} (user ${user.name}): ${(err as Error).message}${crashed !== undefined ? ` [popgate exited: ${crashed}]` : ''}\nwrites: ${JSON.stringify(session.writes.map((b) => b.toString('latin1').slice(0, 300)))}\nlog: ${gw.logTail()}`,
            session,
          );
        }
        sessions++;
        opts.onProgress?.(sessions);
      }
    }),
  );
  const crashed = gw.exited();
  if (crashed !== undefined) throw new Error(`popgate exited: ${crashed}\n${gw.logTail()}`);
  for (const user of gw.users) await wellBehavedSession(gw.port, user);
  const mem = gw.memory();
  const heapEnd = await gw.liveHeap();
  return { seed: opts.seed, sessions, lines, deletions, serverCloses, rssStart, rssEnd: mem.rss, rssPeak: mem.peak, heapStart, heapEnd };
}
