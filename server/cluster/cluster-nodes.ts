// Follows the node list of the cluster manager in use and says when it changed. The slot
// points it at each manager it switches to (the plugin's while clustered, the standalone one
// otherwise); the manager says when its membership moved. Comparing with the list last
// announced means one announcement per real change, whichever side noticed it.
import type { ClusterManager } from './cluster-manager.ts';

export class ClusterNodes {
  private last: readonly string[];
  private unsubscribe: (() => void) | null = null;

  constructor(initial: ClusterManager, private readonly changed: (nodes: readonly string[], previous: readonly string[]) => void) {
    this.last = initial.nodeIds();
    this.unsubscribe = initial.onNodesChanged(() => this.check(initial));
  }

  /** Follows `manager` from now on (the slot switched to it), announcing its list if it differs. */
  follow(manager: ClusterManager): void {
    this.unsubscribe?.();
    this.unsubscribe = manager.onNodesChanged(() => this.check(manager));
    this.check(manager);
  }

  private check(manager: ClusterManager): void {
    const nodes = manager.nodeIds();
    if (sameList(nodes, this.last)) return;
    const previous = this.last;
    this.last = nodes;
    this.changed(nodes, previous);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
