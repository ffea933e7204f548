/**
 * The adapter contract suite against the memory adapter: a folder of .eml files the gateway
 * reads at start (the suite restarts it after each seeding). The mailbox lives inside the
 * gateway, so what it holds is read through a POP3 session (UIDL mapped back to what was seeded).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryUidl } from '../../adapters/memory/store.js';
import type { TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { runContractSuite, type ContractFixture } from './suite.js';

let root = '';
let folder = '';
let seeded: readonly Buffer[] = [];

const fixture: ContractFixture = {
  name: 'memory',
  login: { user: 'alice', password: 'alicepass' },
  gatewayUsers: { alice: { password: 'alicepass' } },
  deviations: { nulSentAs: 0x00 },
  readsAtStart: true,
  async start() {
    root = mkdtempSync(join(tmpdir(), 'popgate-contract-memory-'));
    folder = join(root, 'alice');
    mkdirSync(folder);
  },
  async seed(messages) {
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder);
    messages.forEach((m, i) => writeFileSync(join(folder, `${String(i).padStart(6, '0')}.eml`), m));
    seeded = messages;
  },
  async contents(gw: TestGateway) {
    const byUidl = new Map(seeded.map((m, i) => [memoryUidl(m, i), m] as const));
    // The session that just ended may still hold the maildrop lock for a moment.
    for (let attempt = 0; ; attempt++) {
      const c = await Pop3TestClient.connect(gw.port);
      await c.command('USER alice');
      const pass = await c.command('PASS alicepass');
      if (!pass.startsWith('+OK')) {
        await c.quit();
        if (attempt > 20) throw new Error(`cannot log in to read the mailbox: ${pass}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const { lines } = await c.lines('UIDL');
      await c.quit();
      return lines.map((l) => {
        const m = byUidl.get(l.split(' ')[1] as string);
        if (m === undefined) throw new Error(`a message that was not seeded: ${l}`);
        return m;
      });
    }
  },
  tenant: ({ usersFile }) => ({ adapter: 'memory', users: usersFile, mailboxes: { alice: { folder } } }),
  removeBehind: { cannot: 'only the gateway changes an in-memory mailbox, and its maildrop lock keeps a second session of the same user out' },
  addBehind: { cannot: 'messages are read once when the gateway starts; nothing can arrive during a session' },
  failDeletion: { cannot: 'removing messages from an in-memory list cannot fail' },
  async stop() {
    rmSync(root, { recursive: true, force: true });
  },
};

runContractSuite(fixture);
