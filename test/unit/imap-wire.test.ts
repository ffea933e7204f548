import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mailboxName, uidSet } from '../../adapters/imap/wire/command-args.js';
import { FetchResponse, type BodySink } from '../../adapters/imap/wire/fetch-response.js';
import { ResponseReader, type ResponseHandler } from '../../adapters/imap/wire/response-reader.js';

/** Records what the reader reports, literals as their text. */
function recorder(): { handler: ResponseHandler; events: string[] } {
  const events: string[] = [];
  let literal = '';
  return {
    events,
    handler: {
      text: (part) => events.push(`text ${part}`),
      literalStart: (size) => {
        literal = '';
        events.push(`literal ${size}`);
      },
      literalData: (chunk) => (literal += chunk.toString('latin1')),
      literalEnd: () => events.push(`data ${literal}`),
      end: () => events.push('end'),
    },
  };
}

const WIRE = '* 1 FETCH (UID 7 BODY[] {5}\r\na\r\nb.)\r\n* 2 EXISTS\r\nP1 OK done\r\n* 3 FETCH (BODY[] {0}\r\n UID 9)\r\n';
const EVENTS = [
  'text * 1 FETCH (UID 7 BODY[] {5}',
  'literal 5',
  'data a\r\nb.',
  'text )',
  'end',
  'text * 2 EXISTS',
  'end',
  'text P1 OK done',
  'end',
  'text * 3 FETCH (BODY[] {0}',
  'literal 0',
  'data ',
  'text  UID 9)',
  'end',
];

describe('IMAP response reader', () => {
  it('frames lines and literals the same however the input is cut', () => {
    const input = Buffer.from(WIRE, 'latin1');
    for (let cut = 0; cut <= input.length; cut++) {
      const { handler, events } = recorder();
      const reader = new ResponseReader(handler, 1024);
      reader.push(input.subarray(0, cut));
      reader.push(input.subarray(cut));
      assert.deepEqual(events, EVENTS, `cut at ${cut}`);
    }
    const { handler, events } = recorder();
    const reader = new ResponseReader(handler, 1024);
    for (const b of input) reader.push(Buffer.from([b]));
    assert.deepEqual(events, EVENTS, 'one octet at a time');
  });

  it('refuses a line longer than its limit (a server that never ends a line)', () => {
    const reader = new ResponseReader(recorder().handler, 100);
    assert.throws(() => reader.push(Buffer.alloc(101, 0x41)), /longer than 100/);
  });
});

/** Feeds a FETCH response the way the channel does; gives the UID and the body as text. */
function parseFetch(parts: readonly (string | Buffer)[]): { uid: number | undefined; body: string | undefined; hadBody: boolean } {
  let body: string | undefined;
  const open = (_: FetchResponse, size: number): BodySink => {
    let got = '';
    return {
      data: (c) => (got += c.toString('latin1')),
      end: () => {
        assert.equal(got.length, size);
        body = got;
      },
    };
  };
  const r = new FetchResponse(1, open);
  const first = parts[0] as string;
  r.text(first, first.indexOf('(') + 1);
  for (const part of parts.slice(1)) {
    if (typeof part === 'string') r.text(part);
    else {
      r.literalStart(part.length);
      if (part.length > 0) r.literalData(part);
      r.literalEnd();
    }
  }
  return { uid: r.uid, body, hadBody: r.hadBody };
}

describe('IMAP FETCH response items', () => {
  it('UID before the body literal (Dovecot), and after it', () => {
    assert.deepEqual(parseFetch(['* 1 FETCH (UID 12 BODY[] {3}', Buffer.from('abc'), ')']), { uid: 12, body: 'abc', hadBody: true });
    assert.deepEqual(parseFetch(['* 1 FETCH (BODY[] {3}', Buffer.from('abc'), ' UID 12)']), { uid: 12, body: 'abc', hadBody: true });
  });

  it('a partial body (BODY[]<0>), binary literal8, and lower-case item names', () => {
    assert.equal(parseFetch(['* 1 FETCH (UID 3 BODY[]<0> {2}', Buffer.from('ab'), ')']).body, 'ab');
    assert.equal(parseFetch(['* 1 FETCH (uid 3 body[] ~{2}', Buffer.from('ab'), ')']).body, 'ab');
  });

  it('skips other items, including lists with quoted parentheses and literals inside', () => {
    const r = parseFetch([
      '* 1 FETCH (FLAGS (\\Seen $Label) MODSEQ (99) EMAILID (M6d99ac3275bb4e) X-ODD ("a)b" (c {3}',
      Buffer.from('x)y'),
      ')) UID 4 BODY[] {2}',
      Buffer.from('hi'),
      ')',
    ]);
    assert.deepEqual(r, { uid: 4, body: 'hi', hadBody: true });
  });

  it('a body sent as a quoted string, or as NIL', () => {
    assert.deepEqual(parseFetch(['* 1 FETCH (UID 5 BODY[] "a \\"q\\" \\\\")']), { uid: 5, body: 'a "q" \\', hadBody: true });
    assert.deepEqual(parseFetch(['* 1 FETCH (UID 5 BODY[] NIL)']), { uid: 5, body: undefined, hadBody: false });
  });

  it('a literal that is not the body (BODY[HEADER]) does not reach the body sink', () => {
    const r = parseFetch(['* 1 FETCH (UID 6 BODY[HEADER.FIELDS (SUBJECT)] {4}', Buffer.from('S: x'), ')']);
    assert.deepEqual(r, { uid: 6, body: undefined, hadBody: false });
  });

  it('keeps RFC822.SIZE, FLAGS and the server id (EMAILID or X-GM-MSGID) for the listing', () => {
    const r = new FetchResponse(1, () => undefined);
    r.text('* 1 FETCH (UID 9 RFC822.SIZE 2048 FLAGS (\\Seen \\Deleted) EMAILID (M6d99ac3275bb4e) MODSEQ (12))', '* 1 FETCH ('.length);
    assert.deepEqual([r.uid, r.size, r.flags, r.emailId], [9, 2048, ['\\Seen', '\\Deleted'], 'M6d99ac3275bb4e']);
    const g = new FetchResponse(2, () => undefined);
    g.text('* 2 FETCH (X-GM-MSGID 1278455344230334865 UID 10 RFC822.SIZE 7 FLAGS ())', '* 2 FETCH ('.length);
    assert.deepEqual([g.uid, g.size, g.flags, g.emailId], [10, 7, [], '1278455344230334865']);
  });

  it('the server id is the first token, unquoted; NIL or empty is none; RFC822.SIZE NIL is null, absent is undefined', () => {
    const parse = (items: string): FetchResponse => {
      const r = new FetchResponse(1, () => undefined);
      r.text(`* 1 FETCH (${items})`, '* 1 FETCH ('.length);
      return r;
    };
    assert.equal(parse('UID 1 EMAILID ("M1")').emailId, 'M1');
    assert.equal(parse('UID 1 EMAILID (M1 M2)').emailId, 'M1');
    assert.equal(parse('UID 1 EMAILID NIL').emailId, undefined);
    assert.equal(parse('UID 1 EMAILID ()').emailId, undefined);
    assert.equal(parse('UID 1 RFC822.SIZE NIL').size, null);
    assert.equal(parse('UID 1 FLAGS (\\Seen)').size, undefined);
  });

  it('an unsolicited FLAGS update has no body', () => {
    assert.deepEqual(parseFetch(['* 9 FETCH (FLAGS (\\Deleted) UID 77)']), { uid: 77, body: undefined, hadBody: false });
  });
});

describe('IMAP command arguments', () => {
  it('UID sets collapse runs and drop duplicates, in order', () => {
    assert.equal(uidSet([5, 1, 2, 3, 9, 10, 3]), '1:3,5,9:10');
    assert.equal(uidSet([42]), '42');
    assert.equal(uidSet(Array.from({ length: 10_000 }, (_, i) => i + 1)), '1:10000');
  });

  it('mailbox names are quoted, in modified UTF-7 unless UTF8=ACCEPT is on', () => {
    assert.equal(mailboxName('INBOX', false), '"INBOX"');
    assert.equal(mailboxName('Archive/2026 "old" \\x', false), '"Archive/2026 \\"old\\" \\\\x"');
    assert.equal(mailboxName('Entwürfe', false), '"Entw&APw-rfe"');
    assert.equal(mailboxName('R&D', false), '"R&-D"');
    assert.equal(mailboxName('Entwürfe', true), '"Entwürfe"');
    assert.throws(() => mailboxName('a\r\nb', false), /cannot be sent/);
  });
});
