// The node's state (running, degraded, paused) as a badge with its reason, as the dashboard
// and the clustering page show it.
import type { NodeStatus } from './api-types.ts';
import { h } from './dom.ts';
import { time } from './format.ts';

export function stateLine(status: NodeStatus): HTMLElement {
  return h('p', { class: 'state-line' },
    h('span', { class: `state state-${status.state}`, id: 'node-state', 'data-state': status.state }, status.state),
    h('span', { class: 'reason' }, status.reason ?? 'every service it depends on is available'),
    h('span', { class: 'since' }, `since ${time(status.stateSince)}`));
}

