import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, messageFiles, sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

describe('a basic POP3 session against the Maildir adapter', () => {
  let gw: TestGateway;
  const bodies: string[] = [];
  before(async () => {
    gw = await startTestGateway();
    for (let i = 1; i <= 3; i++) {
      bodies.push(sampleMessage(i));
      addMessage(gw.maildir('alice'), sampleMessage(i));
    }
  });
  after(() => gw.stop());

  it('greets, logs in, lists, retrieves and quits without deleting', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    assert.match(c.greeting, /^\+OK /);
    await c.login(ALICE.user, ALICE.password);
    const sizes = bodies.map((b) => toCrlf(b).length);
    assert.equal(await c.command('STAT'), `+OK 3 ${sizes.reduce((a, b) => a + b, 0)}`);
    const list = await c.lines('LIST');
    assert.deepEqual(
      list.lines,
      sizes.map((s, i) => `${i + 1} ${s}`),
    );
    const retr = await c.multiline('RETR 2');
    assert.equal(retr.status, `+OK ${sizes[1]} octets`);
    assert.deepEqual(retr.body, toCrlf(bodies[1] as string));
    assert.match(await c.quit(), /^\+OK/);
    assert.equal(messageFiles(gw.maildir('alice')).length, 3);
  });
});
