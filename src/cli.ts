#!/usr/bin/env -S node --max-semi-space-size=32 --heap-growing-percent=300
/**
 * `popgate serve | demo | check | route | user add|passwd|remove|list | link list|revoke |
 * device-password add|list|remove | keys generate|rotate`; `serve` with `workers` above 1 runs a
 * primary and its workers.
 */
import { Command, InvalidArgumentError } from 'commander';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPrimary } from './cluster/primary.js';
import { workerCount } from './cluster/worker-count.js';
import { runWorker } from './cluster/worker.js';
import { configPathFrom, loadConfigFile } from './config/loader.js';
import type { Config } from './config/schema.js';
import { demoConfig, demoInstructions, prepareDemo, DEMO_USER } from './demo.js';
import { ConfigError } from './errors.js';
import { devicePasswordCommands, keyCommands, linkCommands } from './identity-cli.js';
import { createLogger } from './logger.js';
import { loadResources, startGateway, handleSignals } from './main.js';
import { routeCommand } from './route-cli.js';
import { userCommands } from './user-cli.js';

const EXIT_CONFIG = 2;

/** The version of the installed package (dist/src/cli.js sits two levels below package.json). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`config error: ${issue}\n`);
      process.exit(EXIT_CONFIG);
    }
    process.stderr.write(`popgate: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

const program = new Command('popgate')
  .description('POP3 gateway for IMAP, Gmail, REST, S3 and Maildir mailboxes')
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the gateway from a YAML config file')
  .option('-c, --config <file>', 'config file (default: $POPGATE_CONFIG)')
  .action((opts: { config?: string }) =>
    run(async () => {
      const path = configPathFrom(opts.config);
      const config = loadConfigFile(path);
      const reread = (): Config => loadConfigFile(path);
      if (cluster.isWorker) return runWorker(config, reread);
      const workers = workerCount(config.workers);
      if (workers > 1) return void runPrimary(workers, config, reread);
      const gateway = await startGateway(config);
      handleSignals(gateway, reread);
    }),
  );

program
  .command('check')
  .description('validate a config file and its users files, then exit')
  .option('-c, --config <file>', 'config file (default: $POPGATE_CONFIG)')
  .action((opts: { config?: string }) =>
    run(async () => {
      const path = configPathFrom(opts.config);
      const config = loadConfigFile(path);
      // The stores were created only to prove they can be: release them (S3 connection pools).
      const { tenants, warnings } = await loadResources(config, createLogger('silent'));
      await tenants.shutdown();
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(`${path}: ok (${config.listeners.length} listeners, ${Object.keys(config.tenants).length} tenants)\n`);
    }),
  );

program
  .command('demo')
  .description('serve a demo Maildir on 127.0.0.1 with no config')
  .option('-p, --port <port>', 'port to listen on', portNumber, 1110)
  .option('-d, --data <dir>', 'data folder for the demo Maildir and users file', '.popgate-demo')
  .action((opts: { port: number; data: string }) =>
    run(async () => {
      const paths = await prepareDemo(opts.data);
      const gateway = await startGateway(demoConfig({ dataDir: opts.data, port: opts.port }, paths));
      handleSignals(gateway);
      const port = gateway.listeners[0]?.address.port ?? opts.port;
      process.stderr.write(demoInstructions(port, join(paths.maildirRoot, DEMO_USER)) + '\n');
    }),
  );

program.addCommand(routeCommand(run));
program.addCommand(userCommands(run));
program.addCommand(linkCommands(run));
program.addCommand(devicePasswordCommands(run));
program.addCommand(keyCommands(run));

await program.parseAsync(process.argv);
