/** Fixed caps of the IMAP adapter, with their unit and their reason. */

/** The first partial fetch for TOP: most headers fit, so TOP n 0 costs one small round trip. */
export const IMAP_TOP_FIRST_CHUNK = 32 * 1024;
/** Further TOP fetches: small, since TOP usually needs only a few lines past the header. */
export const IMAP_TOP_NEXT_CHUNK = 256 * 1024;
/** How long QUIT waits for the IMAP LOGOUT answer before closing the socket anyway. */
export const IMAP_LOGOUT_TIMEOUT_MS = 2000;
