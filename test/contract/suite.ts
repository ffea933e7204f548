/**
 * The adapter contract suite: one set of tests, run against every adapter through a
 * {@link ContractFixture} (test/contract/<adapter>.test.ts), over real sockets to a real gateway.
 * What the README's adapter contract promises, checked the same way for each backend; where a
 * backend differs on purpose (documented), the fixture declares it and the suite asserts the
 * declared behaviour. Nothing is skipped: a fixture that cannot provoke something says why, and
 * the suite asserts that declaration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway, type TestUser } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

/** What a backend cannot do in a test, and why (asserted, never silently skipped). */
export interface Cannot {
  readonly cannot: string;
}

export interface ContractFixture {
  /** Adapter name as in the config (`maildir`, `imap`, ...). */
  readonly name: string;
  /** The POP3 login that reaches the seeded mailbox. */
  readonly login: { readonly user: string; readonly password: string };
  /** Users the gateway's users file holds (none for passthrough backends). */
  readonly gatewayUsers: Record<string, TestUser>;
  /** Documented deviations from "the client gets the stored bytes, CRLF". */
  readonly deviations: {
    /** NUL octets in a stored message reach the client as this octet (same size). */
    readonly nulSentAs: 0x00 | 0x80;
  };
  /** Starts the backend (once per file). */
  start(): Promise<void>;
  /** Makes the mailbox hold exactly these raw messages, listed in this order. */
  seed(messages: readonly Buffer[]): Promise<void>;
  /** The backend reads its messages when the gateway starts: the suite restarts it after seed(). */
  readonly readsAtStart?: boolean;
  /**
   * The raw messages the backend holds now, in listing order (as stored, before any conversion).
   * A backend that lives inside the gateway may answer through it.
   */
  contents(gateway: TestGateway): Promise<Buffer[]>;
  /** The gateway's tenant block for this backend. */
  tenant(paths: { readonly usersFile: string; readonly dir: string }): Record<string, unknown>;
  /** Removes the message seeded at `index` behind the gateway's back (another client). */
  readonly removeBehind: ((index: number) => Promise<void>) | Cannot;
  /** Adds a message behind the gateway's back (new mail arriving). */
  readonly addBehind: ((message: Buffer) => Promise<void>) | Cannot;
  /**
   * Makes the deletion of the message seeded at `index` fail at the next QUIT; returns a function
   * that undoes it (the message is then listed again, unchanged).
   */
  readonly failDeletion: ((index: number, gateway: () => TestGateway) => Promise<() => Promise<void>>) | Cannot;
  /** Stops the backend. */
  stop(): Promise<void>;
}

// ------------------------------------------------------------------ expected bytes

/** Bare LF -> CRLF (a CR before the LF makes it a CRLF already). */
export function crlf(raw: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) out.push(0x0d);
    out.push(raw[i] as number);
  }
  return Buffer.from(out);
}

/** What RETR's un-stuffed body must be: the CRLF message, NULs as declared, plus the framing CRLF if it lacks a final line end. */
function retrBody(raw: Buffer, nulSentAs: number): Buffer {
  const c = Buffer.from(crlf(raw).map((b) => (b === 0 ? nulSentAs : b)));
  return c.length > 0 && c[c.length - 1] !== 0x0a ? Buffer.concat([c, Buffer.from('\r\n')]) : c;
}

/** TOP n of a CRLF message: header, empty line, n lines (whole message when shorter), framed. */
function topBody(raw: Buffer, n: number, nulSentAs: number): Buffer {
  const c = Buffer.from(crlf(raw).map((b) => (b === 0 ? nulSentAs : b)));
  let pos = 0;
  let end = c.length;
  for (;;) {
    const lf = c.indexOf(0x0a, pos);
    if (lf < 0) break;
    const lineLen = lf - pos;
    pos = lf + 1;
    if (lineLen === 0 || (lineLen === 1 && c[lf - 1] === 0x0d)) {
      let left = n;
      for (; left > 0; left--) {
        const next = c.indexOf(0x0a, pos);
        if (next < 0) break;
        pos = next + 1;
      }
      if (left === 0) end = pos;
      break;
    }
  }
  const out = c.subarray(0, end);
  return out.length > 0 && out[out.length - 1] !== 0x0a ? Buffer.concat([out, Buffer.from('\r\n')]) : out;
}

// ------------------------------------------------------------------ the corpus

const m = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Messages every adapter must serve exactly (LF and CRLF, dots, no final line end, NUL, bare CR, 8-bit). */
export const CORPUS: readonly { readonly name: string; readonly raw: Buffer }[] = [
  { name: 'LF line ends', raw: m('From: a@example.com\nTo: b@example.com\nSubject: lf\n\nline one\nline two\nline three\n') },
  { name: 'CRLF line ends', raw: m('From: a@example.com\r\nSubject: crlf\r\n\r\nbody 1\r\nbody 2\r\n') },
  { name: 'lines starting with dots', raw: m('Subject: dots\n\n.\n..\n.leading\n...three\nnot.first\n.\r\n') },
  { name: 'no final line end', raw: m('Subject: no end\n\nfirst\nlast line without end') },
  { name: 'NUL octets', raw: m('Subject: nul\n\nbefore\0after\n\0\n') },
  { name: 'bare CR', raw: m('Subject: cr\n\nbare\rCR inside\nend\r\n') },
  { name: '8-bit headers', raw: m('Subject: caf\xe9 \xc3\xa9t\xc3\xa9\nX-Raw: \xff\xfe\n\nBody \xe9\n') },
  { name: 'header only, no body', raw: m('Subject: header only\n\n') },
  { name: 'long body lines', raw: m(`Subject: long\n\n${'x'.repeat(5000)}\n${'y'.repeat(999)}\n`) },
];

/** A large message for cancellation tests (~8 MB, LF line ends, a dot line now and then). */
function largeMessage(): Buffer {
  const line = '.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij\n';
  return Buffer.concat([m('Subject: large\n\n'), Buffer.from(line.repeat(100_000))]);
}

function small(i: number): Buffer {
  return m(`Subject: message ${i}\nMessage-ID: <c${i}@contract.test>\n\nBody ${i}.\n`);
}

// ------------------------------------------------------------------ helpers

async function session(gw: TestGateway, fx: ContractFixture): Promise<Pop3TestClient> {
  const c = await Pop3TestClient.connect(gw.port);
  await c.login(fx.login.user, fx.login.password);
  return c;
}

async function uidls(c: Pop3TestClient): Promise<string[]> {
  const r = await c.lines('UIDL');
  assert.match(r.status, /^\+OK/);
  return r.lines.map((l) => l.split(' ')[1] as string);
}

async function listSizes(c: Pop3TestClient): Promise<number[]> {
  const r = await c.lines('LIST');
  assert.match(r.status, /^\+OK/);
  return r.lines.map((l, i) => {
    const [n, size] = l.split(' ');
    assert.equal(Number(n), i + 1, `LIST numbers in order: ${l}`);
    return Number(size);
  });
}

function sameContents(actual: readonly Buffer[], expected: readonly Buffer[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} messages, expected ${expected.length}`);
  actual.forEach((a, i) => assert.ok(a.equals(expected[i] as Buffer), `${what}: message ${i + 1} differs`));
}

function isCannot<T>(x: T | Cannot): x is Cannot {
  return typeof x === 'object' && x !== null && 'cannot' in x;
}

/** Every adapter's test file calls this once. */
export function runContractSuite(fx: ContractFixture): void {
  describe(`adapter contract: ${fx.name}`, () => {
    let gw: TestGateway;
    const startGateway = async (): Promise<void> => {
      gw = await startTestGateway({ users: fx.gatewayUsers, tenantConfig: (paths) => fx.tenant(paths) });
    };
    const seed = async (messages: readonly Buffer[]): Promise<void> => {
      await fx.seed(messages);
      if (fx.readsAtStart === true) {
        await gw.stop();
        await startGateway();
      }
    };
    before(async () => {
      await fx.start();
      await startGateway();
    });
    after(async () => {
      await gw?.stop();
      await fx.stop();
    });

    it('an empty mailbox: STAT 0 0, empty LIST and UIDL, RETR 1 refused', async () => {
      await seed([]);
      const c = await session(gw, fx);
      assert.equal(await c.command('STAT'), '+OK 0 0');
      assert.deepEqual(await listSizes(c), []);
      assert.deepEqual(await uidls(c), []);
      assert.match(await c.command('RETR 1'), /^-ERR/);
      assert.match(await c.command('TOP 1 0'), /^-ERR/);
      assert.match(await c.quit(), /^\+OK/);
    });

    it('lists every message with its exact size: LIST sizes = octets RETR sends = STAT total; RETR bytes are the message, CRLF, dot-stuffing undone', async () => {
      await seed(CORPUS.map((x) => x.raw));
      const c = await session(gw, fx);
      const sizes = await listSizes(c);
      assert.equal(sizes.length, CORPUS.length);
      assert.equal(await c.command('STAT'), `+OK ${CORPUS.length} ${sizes.reduce((a, b) => a + b, 0)}`);
      for (const [i, { name, raw }] of CORPUS.entries()) {
        const want = retrBody(raw, fx.deviations.nulSentAs);
        const wire = crlf(raw).length;
        assert.equal(sizes[i], wire, `${name}: LIST size is the CRLF size`);
        assert.equal(await c.command(`LIST ${i + 1}`), `+OK ${i + 1} ${wire}`);
        const r = await c.multiline(`RETR ${i + 1}`);
        assert.equal(r.status, `+OK ${wire} octets`, name);
        assert.ok(r.body.equals(want), `${name}: RETR bytes differ: ${JSON.stringify(r.body.toString('latin1').slice(0, 200))}`);
        // The announced size counts exactly what was sent, before the framing CRLF.
        const framing = want.length - wire;
        assert.ok(framing === 0 || framing === 2, `${name}: framing ${framing}`);
      }
      assert.match(await c.quit(), /^\+OK/);
      sameContents(
        await fx.contents(gw),
        CORPUS.map((x) => x.raw),
        'nothing was changed',
      );
    });

    it(`NUL octets reach the client as 0x${fx.deviations.nulSentAs.toString(16).padStart(2, '0')} (declared), same size`, async () => {
      const raw = m('Subject: nul\n\n\0\0x\0\n');
      await seed([raw]);
      const c = await session(gw, fx);
      const r = await c.multiline('RETR 1');
      assert.equal(r.status, `+OK ${crlf(raw).length} octets`);
      assert.ok(r.body.equals(retrBody(raw, fx.deviations.nulSentAs)));
      assert.equal(r.body.includes(fx.deviations.nulSentAs === 0 ? 0x80 : 0x00), false);
      await c.quit();
    });

    it('TOP n for n = 0, 1, 3 and a large n: header, empty line and n body lines, on every message of the corpus', async () => {
      await seed(CORPUS.map((x) => x.raw));
      const c = await session(gw, fx);
      for (const [i, { name, raw }] of CORPUS.entries()) {
        for (const n of [0, 1, 3, 99_999_999]) {
          const r = await c.multiline(`TOP ${i + 1} ${n}`);
          assert.match(r.status, /^\+OK/, `${name} TOP ${n}`);
          const want = topBody(raw, n, fx.deviations.nulSentAs);
          assert.ok(
            r.body.equals(want),
            `${name} TOP ${n}: got ${JSON.stringify(r.body.toString('latin1').slice(0, 300))}, want ${JSON.stringify(want.toString('latin1').slice(0, 300))}`,
          );
        }
      }
      assert.match(await c.command(`TOP ${CORPUS.length + 1} 0`), /^-ERR/);
      await c.quit();
    });

    it('UIDLs are unique, 1-70 printable octets, and the same in every session and after a gateway restart', async () => {
      const msgs = [small(1), small(2), small(3), small(4)];
      await seed(msgs);
      const c1 = await session(gw, fx);
      const first = await uidls(c1);
      assert.equal(first.length, 4);
      assert.equal(new Set(first).size, 4, 'unique');
      for (const u of first) assert.match(u, /^[\x21-\x7e]{1,70}$/);
      for (let i = 1; i <= 4; i++) assert.equal(await c1.command(`UIDL ${i}`), `+OK ${i} ${first[i - 1]}`);
      await c1.quit();
      const c2 = await session(gw, fx);
      assert.deepEqual(await uidls(c2), first, 'second session');
      await c2.quit();
      await gw.stop();
      await startGateway();
      const c3 = await session(gw, fx);
      assert.deepEqual(await uidls(c3), first, 'after a restart');
      await c3.quit();
    });

    it('DELE then a dropped connection deletes nothing; DELE, RSET, QUIT deletes nothing; DELE then QUIT deletes exactly those messages', async () => {
      const msgs = [small(1), small(2), small(3), small(4)];
      await seed(msgs);
      const c0 = await session(gw, fx);
      const ids = await uidls(c0);
      await c0.quit();

      const c1 = await session(gw, fx);
      assert.match(await c1.command('DELE 1'), /^\+OK/);
      assert.match(await c1.command('DELE 3'), /^\+OK/);
      assert.match(await c1.command('RETR 1'), /^-ERR/, 'a deleted message cannot be read');
      assert.match(await c1.command('LIST 3'), /^-ERR/);
      assert.match(await c1.command('DELE 1'), /^-ERR/, 'twice');
      assert.equal(await c1.command('STAT'), `+OK 2 ${crlf(msgs[1] as Buffer).length + crlf(msgs[3] as Buffer).length}`);
      c1.destroy();
      // The drop is seen by the gateway at once; give its close path a moment before looking.
      await new Promise((r) => setTimeout(r, 100));
      sameContents(await fx.contents(gw), msgs, 'after a drop');

      const c2 = await session(gw, fx);
      assert.match(await c2.command('DELE 2'), /^\+OK/);
      assert.match(await c2.command('RSET'), /^\+OK/);
      assert.match(await c2.command('STAT'), /^\+OK 4 /);
      assert.match(await c2.quit(), /^\+OK/);
      sameContents(await fx.contents(gw), msgs, 'after RSET + QUIT');

      const c3 = await session(gw, fx);
      assert.match(await c3.command('DELE 2'), /^\+OK/);
      assert.match(await c3.command('DELE 4'), /^\+OK/);
      assert.match(await c3.quit(), /^\+OK/);
      sameContents(await fx.contents(gw), [msgs[0] as Buffer, msgs[2] as Buffer], 'after DELE + QUIT');

      const c4 = await session(gw, fx);
      assert.deepEqual(await uidls(c4), [ids[0], ids[2]], 'the rest keep their UIDLs');
      await c4.quit();
    });

    if (isCannot(fx.failDeletion)) {
      const why = fx.failDeletion.cannot;
      it(`a partial commit failure cannot be provoked on this backend: declared (${why})`, () => {
        assert.ok(why.length > 20, 'the fixture gives a reason');
      });
    } else {
      const failDeletion = fx.failDeletion;
      it('a partial commit failure: QUIT answers -ERR [SYS/TEMP] 1 of 2, the other message is deleted, the failed one is listed again', async () => {
        const msgs = [small(1), small(2), small(3)];
        await seed(msgs);
        const c0 = await session(gw, fx);
        const ids = await uidls(c0);
        await c0.quit();
        const c = await session(gw, fx);
        assert.match(await c.command('DELE 1'), /^\+OK/);
        assert.match(await c.command('DELE 2'), /^\+OK/);
        const undo = await failDeletion(0, () => gw);
        try {
          assert.match(await c.quit(), /^-ERR \[SYS\/TEMP\] 1 of 2 messages could not be deleted/);
        } finally {
          await undo();
        }
        sameContents(await fx.contents(gw), [msgs[0] as Buffer, msgs[2] as Buffer], 'the failed one stays, the other is gone');
        const c2 = await session(gw, fx);
        assert.deepEqual(await uidls(c2), [ids[0], ids[2]]);
        await c2.quit();
      });
    }

    if (isCannot(fx.removeBehind)) {
      const why = fx.removeBehind.cannot;
      it(`a message removed underneath a session cannot happen on this backend: declared (${why})`, () => {
        assert.ok(why.length > 20, 'the fixture gives a reason');
      });
    } else {
      const removeBehind = fx.removeBehind;
      it('a message removed by another client during the session: -ERR for that message only; the others are served', async () => {
        const msgs = [small(1), small(2), small(3)];
        await seed(msgs);
        const c = await session(gw, fx);
        assert.match(await c.command('STAT'), /^\+OK 3 /);
        await removeBehind(1);
        assert.match(await c.command('RETR 2'), /^-ERR/);
        for (const i of [1, 3]) {
          const r = await c.multiline(`RETR ${i}`);
          assert.match(r.status, /^\+OK/);
          assert.ok(r.body.equals(retrBody(msgs[i - 1] as Buffer, fx.deviations.nulSentAs)));
        }
        assert.match(await c.command('NOOP'), /^\+OK/, 'the session goes on');
        assert.match(await c.quit(), /^\+OK/);
      });
    }

    if (isCannot(fx.addBehind)) {
      const why = fx.addBehind.cannot;
      it(`a message added during a session cannot happen on this backend: declared (${why})`, () => {
        assert.ok(why.length > 20, 'the fixture gives a reason');
      });
    } else {
      const addBehind = fx.addBehind;
      it('a message added during the session is not in its snapshot (next session lists it)', async () => {
        const msgs = [small(1), small(2)];
        await seed(msgs);
        const c = await session(gw, fx);
        const stat = await c.command('STAT');
        await addBehind(small(3));
        assert.equal(await c.command('STAT'), stat);
        assert.match(await c.command('RETR 3'), /^-ERR/);
        assert.equal((await uidls(c)).length, 2);
        await c.quit();
        const c2 = await session(gw, fx);
        assert.equal((await uidls(c2)).length, 3);
        await c2.quit();
      });
    }

    it('a client that disconnects in the middle of a large RETR: the gateway stays healthy, nothing is deleted', async () => {
      const big = largeMessage();
      const msgs = [small(1), big, small(3)];
      await seed(msgs);
      const c = await session(gw, fx);
      assert.match(await c.command('DELE 1'), /^\+OK/);
      c.send('RETR 2\r\n');
      // Read a little of it, then vanish.
      await c.readLine();
      await new Promise((r) => setTimeout(r, 20));
      c.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const c2 = await session(gw, fx);
      const r = await c2.multiline('RETR 2');
      assert.equal(r.status, `+OK ${crlf(big).length} octets`);
      assert.ok(r.body.equals(retrBody(big, fx.deviations.nulSentAs)));
      assert.match(await c2.quit(), /^\+OK/);
      sameContents(await fx.contents(gw), msgs, 'nothing deleted');
    });

    it('10,000 messages: STAT, LIST and UIDL agree and list every message', async () => {
      const count = 10_000;
      const msgs = Array.from({ length: count }, (_, i) => small(i + 1));
      let t = Date.now();
      await seed(msgs);
      const seededMs = Date.now() - t;
      t = Date.now();
      const c = await session(gw, fx);
      const loginMs = Date.now() - t;
      t = Date.now();
      const total = msgs.reduce((a, b) => a + crlf(b).length, 0);
      assert.equal(await c.command('STAT', 60_000), `+OK ${count} ${total}`);
      console.log(`${fx.name}: 10,000 messages seeded in ${seededMs} ms, login ${loginMs} ms, first STAT ${Date.now() - t} ms`);
      const sizes = await listSizes(c);
      assert.equal(sizes.length, count);
      assert.deepEqual(
        sizes,
        msgs.map((x) => crlf(x).length),
      );
      const ids = await uidls(c);
      assert.equal(new Set(ids).size, count);
      const r = await c.multiline(`RETR ${count}`);
      assert.ok(r.body.equals(retrBody(msgs[count - 1] as Buffer, fx.deviations.nulSentAs)), 'the last one is the last seeded');
      await c.quit();
      await seed([]);
    });
  });
}
