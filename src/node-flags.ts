/**
 * V8 flags popgate runs with (the `popgate` bin's shebang, `npm start`, the Dockerfile and the
 * benchmark use the same). A 32 MiB young generation cuts the garbage collector's share of a
 * 20 KB-message download by about 40% (popgate CPU per 2,000-message session: Maildir 0.51 ->
 * 0.34 s, IMAP 0.62 -> 0.36 s; 16 MiB gained nothing, 64 MiB less), for ~60 MiB more RSS at peak.
 *
 * `--heap-growing-percent=300` fixes the old generation's growth between major GCs at 4x (V8's own
 * maximum). V8 otherwise derives it from the allocation rate, which an idle spell (a gateway
 * between sessions) makes look tiny: it then shrinks to 1.1x and a busy session that follows runs
 * a major GC every ~40 ms. Measured on the 1 MB Maildir workload, with 10 s idle between
 * sessions: 9-14 Mark-Compacts and 0.8-1.1 s CPU per session without it, 1-2 and 0.45-0.8 s with
 * it (3 processes each); the live heap is ~25 MB, so the cost is at most ~75 MB more before a GC.
 *
 * V8 reads these only at start-up, so they cannot be set from inside the process.
 */
export const NODE_FLAGS = ['--max-semi-space-size=32', '--heap-growing-percent=300'] as const;
