// Line-oriented logging to stderr: `2026-11-22T02:00:00.000Z INFO  [c2s] message key=value`.
// One logger per component, created with child(); the level is process-wide.
import type { LogLevel } from './config/types.ts';
import { recentLog } from './log-ring.ts';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = ORDER.info;

export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

export type LogFields = Record<string, unknown>;

function format(fields: LogFields | undefined): string {
  if (!fields) return '';
  let s = '';
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    const text = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
    s += ' ' + k + '=' + (/[\s"]/.test(text) ? JSON.stringify(text) : text);
  }
  return s;
}

export class Logger {
  constructor(readonly component: string) {}

  child(component: string): Logger {
    return new Logger(component);
  }

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= threshold;
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (ORDER[level] < threshold) return;
    const time = new Date().toISOString();
    const text = `${msg}${format(fields)}`;
    process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} [${this.component}] ${text}\n`);
    recentLog.push({ time, level, component: this.component, text });
  }

  debug(msg: string, fields?: LogFields): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.write('error', msg, fields); }
}

export const rootLogger = new Logger('xmppd');
