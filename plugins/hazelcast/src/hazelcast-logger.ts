// Hazelcast's client logs through the node's logger, so its messages land in the same place
// and format as everything else, at the node's log level. A client whose attempt to connect
// was abandoned (clustering switched off meanwhile) goes on trying until its connect timeout;
// `muted` silences it then, so that nothing about clustering is logged after the switch.
import type { ILogger } from 'hazelcast-client';
import type { Logger } from 'xmppd';

type Level = 'error' | 'warn' | 'info' | 'debug';
/** Hazelcast's numeric levels (0 error ... 4 trace) in the node's terms. */
const LEVELS: readonly Level[] = ['error', 'warn', 'info', 'debug', 'debug'];

export function hazelcastLogger(parent: Logger, muted: () => boolean = () => false): ILogger {
  const log = parent.child('hazelcast');
  const write = (level: Level, objectName: string, message: string, furtherInfo: unknown): void => {
    if (muted()) return;
    log[level](`${objectName}: ${message}`, furtherInfo === undefined ? undefined : { detail: furtherInfo instanceof Error ? furtherInfo.message : String(furtherInfo) });
  };
  return {
    log: (level, o, m, f) => write(LEVELS[level] ?? 'debug', o, m, f),
    error: (o, m, f) => write('error', o, m, f),
    warn: (o, m, f) => write('warn', o, m, f),
    info: (o, m, f) => write('info', o, m, f),
    debug: (o, m, f) => write('debug', o, m, f),
    trace: (o, m, f) => write('debug', o, m, f),
  };
}
