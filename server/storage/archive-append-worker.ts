// The archive append thread (archive-append-thread.ts): a connection of its own and the
// archive repository's own append, one request after the other in the order they came, so
// each caller's rows keep their order. The result of each goes back by its number; the
// thread's log lines go back too, to be written by the node's logger.
import { parentPort, workerData } from 'node:worker_threads';
import { type LogFields, Logger } from '../log.ts';
import type { AppendReply, AppendRequest, AppendWorkerData } from './archive-append-thread.ts';
import { SqlArchiveRepository } from './archive-repository.ts';
import { connect } from './connection.ts';

const port = parentPort!;
const { config } = workerData as AppendWorkerData;

/** A Logger whose lines are written by the main thread's (fields made plain first: Errors do not clone). */
class ForwardingLogger extends Logger {
  override child(): Logger {
    return this;
  }
  override debug(msg: string, fields?: LogFields): void { forward('debug', msg, fields); }
  override info(msg: string, fields?: LogFields): void { forward('info', msg, fields); }
  override warn(msg: string, fields?: LogFields): void { forward('warn', msg, fields); }
  override error(msg: string, fields?: LogFields): void { forward('error', msg, fields); }
}

function forward(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: LogFields): void {
  const plain = fields && Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? v.message : v]));
  port.postMessage({ log: level, msg, fields: plain } satisfies AppendReply);
}

const { knex } = connect(config, new ForwardingLogger('archive'));
const archive = new SqlArchiveRepository(knex);

let turn: Promise<void> = Promise.resolve();
port.on('message', (m: AppendRequest) => {
  turn = turn.then(async () => {
    if ('close' in m) {
      await knex.destroy();
      port.close();
      return;
    }
    try {
      await archive.append(m.entries);
      port.postMessage({ done: m.append } satisfies AppendReply);
    } catch (err) {
      port.postMessage({ done: m.append, error: err instanceof Error ? err.message : String(err) } satisfies AppendReply);
    }
  });
});
