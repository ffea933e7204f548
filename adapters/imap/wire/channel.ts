/**
 * The IMAP connection of a POP3 session once the folder is open. imapflow connects, negotiates
 * TLS, authenticates, enables CONDSTORE and selects the folder; then `unbind()` hands the socket
 * over to this channel for the rest of the session, because imapflow holds every literal whole
 * and spends about as much CPU per FETCH response as all of popgate's own work (it parses each
 * response into objects, then compiles it again for its log): the listing of a 10,000-message
 * folder took it 1.1 s of CPU, against 0.15 s here. Here a message body goes from the IMAP socket
 * to the POP3 socket in the pieces it arrives in, with back-pressure, and only the few commands
 * a POP3 session needs are spoken.
 */
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import { StoreError } from '../../contract.js';
import { FetchResponse, type OpenBody } from './fetch-response.js';
import { ResponseReader } from './response-reader.js';

export type Status = 'OK' | 'NO' | 'BAD';

export interface Completion {
  readonly status: Status;
  /** The response code's atom, e.g. TRYCREATE, upper-case. */
  readonly code: string | undefined;
  readonly text: string;
}

export interface CommandOptions {
  /** Each untagged response other than FETCH, as text (literals inside are left out). */
  readonly untagged?: (text: string) => void;
  /** Where the body of a FETCH response goes (undefined: dropped). */
  readonly openBody?: OpenBody;
  /** A FETCH response ended. */
  readonly fetched?: (response: FetchResponse) => void;
}

interface Pending {
  readonly tag: string;
  readonly line: string;
  readonly options: CommandOptions;
  readonly resolve: (done: Completion) => void;
  readonly reject: (err: StoreError) => void;
}

type Reading = { readonly kind: 'fetch'; readonly fetch: FetchResponse } | { readonly kind: 'text'; readonly parts: string[]; kept: number };

/**
 * Longest response line accepted, and untagged text kept per response: a server without ESEARCH
 * answers SEARCH in one line, 8 octets per UID (2 million UIDs here); imapflow allowed 1 GiB.
 */
const MAX_LINE = 16 * 1024 * 1024;
const MAX_UNTAGGED_TEXT = MAX_LINE;
const FETCH_START = /^\* (\d+) FETCH \(/i;
const TAGGED = /^(\S+) (OK|NO|BAD)\b ?(?:\[([^\] ]+)[^\]]*\] ?)?(.*)$/i;

/** Extensions that IMAP4rev2 (RFC 9051, appendix E) makes part of the base protocol. */
const FOLDED_INTO_REV2 = new Set(['ESEARCH', 'MOVE', 'UIDPLUS']);

/** What imapflow learnt about the session before the handover. */
export interface ChannelFacts {
  readonly capabilities: ReadonlySet<string>;
  /** IMAP4rev2 is in force: its folded extensions are present, SEARCH answers ESEARCH. */
  readonly rev2: boolean;
  /** UTF8=ACCEPT (RFC 6855) or IMAP4rev2: mailbox names go as UTF-8, not modified UTF-7. */
  readonly utf8: boolean;
  /** The folder as it was selected (with the namespace prefix imapflow added, if any). */
  readonly selectedPath: string;
  /** The personal namespace prefix, e.g. "INBOX.", for other folder names (move targets). */
  readonly namespacePrefix: string;
}

export class ImapChannel {
  readonly facts: ChannelFacts;
  private readonly reader: ResponseReader;
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private reading: Reading | undefined;
  private nextTag = 1;
  private failure: StoreError | undefined;
  private held = false;
  private timer: NodeJS.Timeout | undefined;
  private sentAt = 0;

  /** Takes the connection over from imapflow, which must have no command running and a folder selected. */
  static takeOver(client: ImapFlow, timeoutMs: number, logger?: Logger): ImapChannel {
    if (!client.usable || client.mailbox === false) throw new StoreError('TEMPORARY', 'imap: the connection was lost');
    const capabilities = new Set(client.capabilities.keys());
    // The same test imapflow uses (a server may be rev2-only without ENABLE).
    const rev2 = client.enabled.has('IMAP4REV2') || (capabilities.has('IMAP4rev2') && !capabilities.has('IMAP4rev1'));
    const facts: ChannelFacts = {
      capabilities,
      rev2,
      utf8: rev2 || client.enabled.has('UTF8=ACCEPT'),
      selectedPath: client.mailbox.path,
      namespacePrefix: client.namespace?.prefix ?? '',
    };
    const { readSocket, writeSocket, socket } = client.unbind();
    socket.setTimeout(0);
    return new ImapChannel(readSocket, writeSocket, () => socket.destroy(), facts, timeoutMs, logger);
  }

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly destroySocket: () => void,
    facts: ChannelFacts,
    /** A command whose server stays silent this long (while popgate wants its data) fails the connection. */
    private readonly timeoutMs: number,
    /** Gets each command's latency at debug level. */
    private logger?: Logger,
  ) {
    this.facts = facts;
    this.reader = new ResponseReader(
      {
        text: (part) => this.text(part),
        literalStart: (size) => this.fetchReading()?.literalStart(size),
        literalData: (chunk) => this.fetchReading()?.literalData(chunk),
        literalEnd: () => this.fetchReading()?.literalEnd(),
        end: () => this.responseEnd(),
      },
      MAX_LINE,
      // imapflow may have kept the start of a line the server sent unasked after the last
      // answer: its rest arrives here first, and must not be taken for a response (or a literal).
      (line) => /^(\* |\+|P\d+ )/.test(line),
    );
    const lost = (): void => this.fail(new StoreError('TEMPORARY', 'imap: the connection was lost'));
    input.on('data', (chunk: Buffer) => this.received(chunk));
    input.on('end', lost);
    input.on('close', lost);
    input.on('error', lost);
    output.on('error', lost);
    if (input.destroyed || input.readableEnded) lost();
    else input.resume();
  }

  /** The capability, or an extension IMAP4rev2 folds into the base protocol. */
  has(capability: string): boolean {
    return this.facts.capabilities.has(capability) || (this.facts.rev2 && FOLDED_INTO_REV2.has(capability));
  }

  get usable(): boolean {
    return this.failure === undefined;
  }

  /** Usable, with no command running or queued and no back-pressure: it can be kept for another session. */
  get idle(): boolean {
    return this.failure === undefined && this.current === undefined && this.queue.length === 0 && !this.held;
  }

  /** A kept connection serves another session: its command timings are logged as that session's. */
  useLogger(logger: Logger): void {
    this.logger = logger;
  }

  /** Runs one command (commands run one at a time, in order). Rejects only if the connection fails. */
  run(command: string, options: CommandOptions = {}): Promise<Completion> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ tag: `P${this.nextTag++}`, line: command, options, resolve, reject });
      if (this.current === undefined) this.sendNext();
    });
  }

  /** Back-pressure: stop reading from the server until release(); no timeout runs meanwhile. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    this.input.pause();
    this.disarm();
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.failure !== undefined) return;
    this.input.resume();
    this.arm();
  }

  /** LOGOUT (bounded by `ms`), then the socket is closed whatever the answer. */
  async logout(ms: number): Promise<void> {
    if (this.failure === undefined) {
      this.release();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      await Promise.race([
        this.run('LOGOUT').then(
          () => undefined,
          () => undefined,
        ),
        late,
      ]);
      clearTimeout(timer);
    }
    this.fail(new StoreError('TEMPORARY', 'imap: the connection was closed'));
  }

  /** Fails every command and closes the connection (idempotent). */
  fail(err: StoreError): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.disarm();
    const waiting = this.current === undefined ? this.queue : [this.current, ...this.queue];
    this.current = undefined;
    this.queue.length = 0;
    for (const p of waiting) p.reject(err);
    this.destroySocket();
  }

  private sendNext(): void {
    const next = this.queue.shift();
    this.current = next;
    if (next === undefined) {
      this.disarm();
      return;
    }
    this.output.write(`${next.tag} ${next.line}\r\n`);
    this.sentAt = performance.now();
    this.arm();
  }

  private received(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.arm();
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fail(err instanceof StoreError ? err : new StoreError('TEMPORARY', `imap: ${(err as Error).message}`, { cause: err }));
    }
  }

  private fetchReading(): FetchResponse | undefined {
    return this.reading?.kind === 'fetch' ? this.reading.fetch : undefined;
  }

  private text(part: string): void {
    const reading = this.reading;
    if (reading?.kind === 'fetch') {
      reading.fetch.text(part);
      return;
    }
    if (reading !== undefined) {
      if (reading.kept + part.length > MAX_UNTAGGED_TEXT) return;
      reading.parts.push(part);
      reading.kept += part.length;
      return;
    }
    const fetchStart = FETCH_START.exec(part);
    const openBody = this.current?.options.openBody;
    if (fetchStart !== null) {
      const fetch = new FetchResponse(Number(fetchStart[1]), openBody ?? (() => undefined));
      this.reading = { kind: 'fetch', fetch };
      fetch.text(part, fetchStart[0].length);
      return;
    }
    this.reading = { kind: 'text', parts: [part], kept: part.length };
  }

  private responseEnd(): void {
    const reading = this.reading;
    this.reading = undefined;
    if (reading === undefined) return;
    const current = this.current;
    if (reading.kind === 'fetch') {
      current?.options.fetched?.(reading.fetch);
      return;
    }
    const text = reading.parts.join('');
    if (text.startsWith('* ')) {
      current?.options.untagged?.(text);
      return;
    }
    const tagged = TAGGED.exec(text);
    // Continuation requests ("+") are never asked for: no command here sends a literal.
    if (tagged === null || current === undefined || tagged[1] !== current.tag) return;
    const status = (tagged[2] as string).toUpperCase() as Status;
    if (this.logger?.isLevelEnabled('debug') === true) {
      const op = /^(UID \S+|\S+)/.exec(current.line)?.[1] ?? current.line;
      this.logger.debug({ op, status, ms: Math.round((performance.now() - this.sentAt) * 10) / 10 }, 'imap: backend command');
    }
    current.resolve({ status, code: tagged[3]?.toUpperCase(), text: tagged[4] ?? '' });
    this.sendNext();
  }

  private arm(): void {
    if (this.current === undefined || this.held || this.failure !== undefined) return this.disarm();
    // Called for every socket read: refreshing one timer is far cheaper than a new one each time.
    if (this.timer !== undefined) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.fail(new StoreError('TEMPORARY', `imap: no answer within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
