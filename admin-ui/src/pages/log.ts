// The node's recent log lines (GET /api/log, kept in the node's memory), newest last,
// filtered by level, refreshed every few seconds while the page is shown.
import { describe, logLines } from '../api.ts';
import type { LogLevel, LogLine } from '../api-types.ts';
import { h, message } from '../dom.ts';
import { every } from '../poll.ts';
import type { Route } from '../router.ts';

const REFRESH_MS = 3000;
const LINES = 500;
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

function lineView(l: LogLine): HTMLElement {
  return h('tr', { class: `log-${l.level}` },
    h('td', { class: 'log-time' }, l.time.replace('T', ' ').replace('Z', '')),
    h('td', { class: 'log-level' }, l.level.toUpperCase()),
    h('td', { class: 'log-component' }, l.component),
    h('td', { class: 'log-text' }, l.text));
}

export const logPage: Route = {
  path: '/log',
  title: 'Log',
  render(main) {
    const level = h('select', { id: 'log-level', 'aria-label': 'Lowest level shown' },
      ...LEVELS.map((l) => h('option', { value: l, selected: l === 'info' }, `${l} and above`)));
    const updated = h('p', { class: 'updated' });
    const body = h('div', { class: 'log' }, h('p', { class: 'loading' }, 'Loading…'));
    /** An answer that a later read overtook (a new level) is dropped. */
    let reads = 0;
    const refresh = async (): Promise<void> => {
      const mine = ++reads;
      try {
        const lines = await logLines(level.value as LogLevel, LINES);
        if (mine !== reads) return;
        body.replaceChildren(lines.length
          ? h('table', { id: 'log-lines' }, h('tbody', {}, ...lines.map(lineView)))
          : h('p', {}, 'No line at this level since the node started.'));
        updated.textContent = `The newest ${LINES} lines of this node, updated ${new Date().toLocaleTimeString('en-GB')}, every ${REFRESH_MS / 1000} s.`;
      } catch (err) {
        if (mine !== reads) return;
        body.replaceChildren(message('error', `Cannot read the log: ${describe(err)}`));
      }
    };
    level.addEventListener('change', () => void refresh());
    main.append(h('h1', {}, 'Log'), h('p', {}, h('label', {}, 'Show ', level)), updated, body);
    return every(REFRESH_MS, refresh);
  },
};
