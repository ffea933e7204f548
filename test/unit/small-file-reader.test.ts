import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SmallFileReader } from '../../adapters/maildir/read-small-file.js';

describe('SmallFileReader: synchronous while reads are fast', () => {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-sfr-'));
  const file = join(dir, 'message');
  writeFileSync(file, 'Subject: x\n\nbody\n');
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A clock that moves `cost()` ms at each reading, so each read seems to take that long. */
  function reader(cost: () => number): { reader: SmallFileReader; clock: { t: number } } {
    const clock = { t: 0 };
    return { clock, reader: new SmallFileReader(() => (clock.t += cost())) };
  }

  it('one slow read among fast ones (the process was descheduled) keeps reads synchronous', async () => {
    let n = 0;
    const { reader: r } = reader(() => (++n === 10 ? 5 : 0.01));
    for (let i = 0; i < 30; i++) assert.equal((await r.read(file, 100))?.toString(), 'Subject: x\n\nbody\n');
    assert.equal(r.inThreadPool, false);
  });

  it('three slow reads out of eight (a cold disk) move reads to the thread pool, for a minute', async () => {
    let slow = true;
    const { reader: r, clock } = reader(() => (slow ? 3 : 0.01));
    for (let i = 0; i < 3; i++) await r.read(file, 100);
    assert.equal(r.inThreadPool, true);
    slow = false;
    assert.equal((await r.read(file, 100))?.toString(), 'Subject: x\n\nbody\n', 'reads still work there');
    clock.t += 61_000;
    assert.equal(r.inThreadPool, false);
  });

  it('a file larger than the limit gives null either way', async () => {
    const { reader: r } = reader(() => 0.01);
    assert.equal(await r.read(file, 5), null);
  });
});
