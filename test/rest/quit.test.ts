/** QUIT through the REST adapter: delete, move and keep, with per-id failures reported. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';
import { loggedIn } from '../helpers/tx-util.js';

const msgs = (): Buffer[] => [1, 2, 3].map((i) => Buffer.from(`Subject: ${i}\n\n${i}\n`));
const ids = (s: RestStack, box: string): string[] => (s.store.mailboxes.get(box) ?? []).map((m) => m.id);

async function deleteAndQuit(s: RestStack, numbers: readonly number[]): Promise<string> {
  const c = await loggedIn(s.gw);
  for (const n of numbers) assert.match(await c.command(`DELE ${n}`), /^\+OK/);
  return c.quit();
}

describe('REST QUIT', () => {
  let s: RestStack | undefined;
  after(() => stopRestStack(s ?? {}));
  const restart = async (tenant: Record<string, unknown>): Promise<RestStack> => {
    await stopRestStack(s ?? {});
    return (s = await startRestStack({ tenant }));
  };

  it('delete: one :delete request; an id the store refuses -> -ERR [SYS/TEMP] 1 of 2, logged with its reason; it stays', async () => {
    const st = await restart({ deleteMode: 'delete' });
    const [m1, , m3] = st.store.seed('alice', msgs());
    st.store.refuse.set(m1?.id as string, 'retention hold');
    const from = st.gw.logs.length;
    assert.match(await deleteAndQuit(st, [1, 2]), /^-ERR \[SYS\/TEMP\] 1 of 2 messages could not be deleted/);
    assert.equal(st.store.calls.delete, 1);
    assert.deepEqual(ids(st, 'alice'), [m1?.id, m3?.id]);
    assert.ok(st.gw.logs.slice(from).some((l) => l.includes('retention hold')));
  });

  it('delete: a message someone else already removed counts as removed (not_found)', async () => {
    const st = s as RestStack;
    const [m1] = st.store.seed('alice', msgs());
    const c = await loggedIn(st.gw);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    st.store.remove('alice', m1?.id as string);
    assert.match(await c.quit(), /^\+OK/);
  });

  it('move: the messages go to the rendered destination mailbox', async () => {
    const st = await restart({ deleteMode: 'move:archive-{user}' });
    const [m1, m2, m3] = st.store.seed('alice', msgs());
    assert.match(await deleteAndQuit(st, [1, 3]), /^\+OK/);
    assert.deepEqual(ids(st, 'alice'), [m2?.id]);
    assert.deepEqual(ids(st, 'archive-alice'), [m1?.id, m3?.id]);
    assert.equal(st.store.calls.move, 1, 'one :move request for both');
  });

  it('keep: nothing is sent to the store and nothing changes', async () => {
    const st = await restart({ deleteMode: 'keep' });
    st.store.seed('alice', msgs());
    assert.match(await deleteAndQuit(st, [1, 2, 3]), /^\+OK/);
    assert.equal(st.store.calls.delete + st.store.calls.move, 0);
    assert.equal(ids(st, 'alice').length, 3);
  });

  it('a :delete answered 503 every time: all reported failed, nothing lost', async () => {
    const st = await restart({ deleteMode: 'delete', maxAttempts: 2 });
    st.store.seed('alice', msgs());
    st.store.fail(503, { op: 'delete', count: 2, retryAfter: '0' });
    assert.match(await deleteAndQuit(st, [1, 2]), /^-ERR \[SYS\/TEMP\] 2 of 2 messages could not be deleted/);
    assert.equal(st.store.calls.delete, 2, 'sent again once (maxAttempts 2)');
    assert.equal(ids(st, 'alice').length, 3);
  });
});
