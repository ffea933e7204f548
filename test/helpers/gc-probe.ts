/**
 * Preloaded into a popgate child by the fuzzer (`node --expose-gc --import <this>`): on SIGUSR2
 * it runs a full garbage collection and writes process.memoryUsage() as JSON to the file named
 * by POPGATE_GC_PROBE_FILE. So a test can tell live memory (a leak) from V8 heap sizing.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.POPGATE_GC_PROBE_FILE;
const gc = (globalThis as { gc?: () => void }).gc;
if (file !== undefined && gc !== undefined) {
  process.on('SIGUSR2', () => {
    gc();
    writeFileSync(file, JSON.stringify(process.memoryUsage()));
  });
}
