// xmppd start: runs the server in the foreground until SIGINT or SIGTERM, then stops it
// cleanly (sessions closed, database released). A second signal exits at once. SIGHUP
// reloads the TLS certificate.
import { rootLogger, setLogLevel } from '../log.ts';
import type { CommandContext } from './command-context.ts';
import { expectArgs } from './command-line.ts';

export const START_USAGE: [string, string][] = [
  ['start', 'run the server in the foreground'],
];

export async function startCommand(ctx: CommandContext): Promise<void> {
  expectArgs(ctx.args, 'start', 0);
  const config = ctx.config();
  setLogLevel(config.logLevel);
  const log = rootLogger.child('main');

  // Listening for signals before the server starts: a stop requested during startup (a
  // supervisor giving up, Ctrl-C) is honoured as soon as there is something to stop.
  let requested = false;
  let stopNow: (() => void) | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (requested) {
      log.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    requested = true;
    log.info('stopping', { signal });
    stopNow?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP, as for most daemons (systemctl reload): a renewed certificate, no restart. Its
  // default action would end the process, so it is caught from the start.
  let running: { reloadTls(): Promise<void> } | null = null;
  process.on('SIGHUP', () => {
    if (running) void running.reloadTls().catch(() => {});
    else log.info('SIGHUP during startup: the certificate is being read anyway');
  });

  // Imported here so that the administrative commands do not load the whole server.
  const { startServer } = await import('../server.ts');
  const server = await startServer(config);
  running = server;
  await new Promise<void>((resolve, reject) => {
    stopNow = () => void server.stop().then(resolve, reject);
    if (requested) stopNow();
  });
  log.info('stopped');
}
