/**
 * V8 flags popgate runs with (the `popgate` bin's shebang, `npm start`, the Dockerfile and the
 * benchmark use the same). A 32 MiB young generation cuts a large part of the garbage
 * collector's share of a 20 KB-message download, for some more RSS at peak; 16 MiB gained
 * nothing and 64 MiB less (figures: bench/README.md "Figures behind code choices").
 *
 * `--heap-growing-percent=300` fixes the old generation's growth between major GCs at 4x (V8's own
 * maximum). V8 otherwise derives it from the allocation rate, which an idle spell (a gateway
 * between sessions) makes look tiny: it then shrinks to almost no headroom and a busy session
 * that follows runs major GCs back to back. With the flag such a session runs a few major GCs
 * and much less CPU; the live heap is small, so the cost is a bounded amount of memory more
 * before a GC (figures: bench/README.md "Figures behind code choices").
 *
 * V8 reads these only at start-up, so they cannot be set from inside the process.
 */
export const NODE_FLAGS = ['--max-semi-space-size=32', '--heap-growing-percent=300'] as const;
