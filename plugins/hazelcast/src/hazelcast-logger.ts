// Hazelcast's client logs through the node's logger, so its messages land in the same place
// and format as everything else, at the node's log level.
import type { ILogger } from 'hazelcast-client';
import type { Logger } from 'xmppd';

export function hazelcastLogger(parent: Logger): ILogger {
  const log = parent.child('hazelcast');
  const line = (objectName: string, message: string): string => `${objectName}: ${message}`;
  const info = (furtherInfo: unknown): Record<string, unknown> | undefined =>
    furtherInfo === undefined ? undefined : { detail: furtherInfo instanceof Error ? furtherInfo.message : String(furtherInfo) };
  return {
    log(level, objectName, message, furtherInfo) {
      if (level === 0) log.error(line(objectName, message), info(furtherInfo));
      else if (level === 1) log.warn(line(objectName, message), info(furtherInfo));
      else if (level === 2) log.info(line(objectName, message), info(furtherInfo));
      else log.debug(line(objectName, message), info(furtherInfo));
    },
    error: (o, m, f) => log.error(line(o, m), info(f)),
    warn: (o, m, f) => log.warn(line(o, m), info(f)),
    info: (o, m, f) => log.info(line(o, m), info(f)),
    debug: (o, m, f) => log.debug(line(o, m), info(f)),
    trace: (o, m, f) => log.debug(line(o, m), info(f)),
  };
}
