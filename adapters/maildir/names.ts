/** Maildir file-name conventions (maildir(5), Dovecot's ",S=" and ",W=" size fields). */

export interface MaildirName {
  /** The unique part: the file name before ":2,flags" (or "!2," on some systems). */
  readonly base: string;
  /** The base without size fields, so a rename that adds ",W=" keeps the same UIDL. */
  readonly stableBase: string;
  /** ",S=": file size with LF line ends. */
  readonly rawSize: number | null;
  /** ",W=": size with CRLF line ends, what POP3 announces. */
  readonly crlfSize: number | null;
  /** Seconds since the epoch from the leading "time." part, for delivery order. */
  readonly time: number;
}

const SIZE_FIELD = /,([SW])=(\d+)/g;

export function parseMaildirName(file: string): MaildirName {
  const infoAt = file.search(/[:!]2,/);
  const base = infoAt >= 0 ? file.slice(0, infoAt) : file;
  let rawSize: number | null = null;
  let crlfSize: number | null = null;
  for (const m of base.matchAll(SIZE_FIELD)) {
    const value = Number(m[2]);
    if (!Number.isSafeInteger(value)) continue;
    if (m[1] === 'S') rawSize = value;
    else crlfSize = value;
  }
  const time = Number.parseInt(base, 10);
  return {
    base,
    stableBase: base.replace(SIZE_FIELD, ''),
    rawSize,
    crlfSize,
    time: Number.isFinite(time) ? time : 0,
  };
}

/** Files a reader must ignore: dot files (temporary, hidden) and anything not a message name. */
export function isMessageFileName(file: string): boolean {
  return file.length > 0 && !file.startsWith('.');
}
