/**
 * Debian's Chromium driven headless by playwright-core (no browser download: executablePath).
 * The flags keep it off the network it would otherwise call at start (this machine's closed
 * network refuses those connections, many at a time); a fresh profile folder each launch
 * (playwright passes it as --user-data-dir).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { requireProgram } from './programs.js';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  requireProgram('chromium');
  if (!existsSync(CHROMIUM)) throw new Error(`this test needs ${CHROMIUM} (Debian's chromium package): sudo bash scripts/install-test-deps.sh`);
  const profile = mkdtempSync(join(tmpdir(), 'popgate-chromium-'));
  const { chromium } = await import('playwright-core');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
