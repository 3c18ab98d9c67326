// xmppd start: runs the server in the foreground until SIGINT or SIGTERM, then stops it
// cleanly (sessions closed, database released). A second signal exits at once.
import { setLogLevel, rootLogger } from '../log.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const START_USAGE: [string, string][] = [
  ['start', 'run the server in the foreground'],
];

/** After a clean stop, a handle left open somewhere must not keep the process alive. */
const EXIT_GRACE_MS = 5000;

export async function startCommand(ctx: CommandContext): Promise<void> {
  expectArgs(ctx.args, 'start', 0);
  const config = ctx.config();
  setLogLevel(config.logLevel);
  // Imported here so that the administrative commands do not load the whole server.
  const { startServer } = await import('../server.ts');
  const server = await startServer(config);
  const log = rootLogger.child('main');

  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn('second signal: exiting without waiting', { signal });
        process.exit(1);
      }
      stopping = true;
      log.info('stopping', { signal });
      server.stop().then(resolve, reject);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  log.info('stopped');
  setTimeout(() => {
    log.warn('handles still open after stop; exiting anyway');
    process.exit(process.exitCode ?? 0);
  }, EXIT_GRACE_MS).unref();
}
