// The cluster data consistency check (as Openfire's cluster page has one): every node compares
// its replica of the routes, its own sessions' entries included, with the routes map, and
// reports what differs; asked to repair, it first reconciles (the same repair it runs by
// itself after every reconnection to Hazelcast). The node asked gathers the other nodes'
// answers over the cluster links, so one request covers the cluster.
import { randomBytes } from 'node:crypto';
import type { NodeConsistency, PluginContext, RouteDifferences } from 'xmppd';

export const CHECK_EVENT = 'remote/cluster-consistency';
export const ANSWER_EVENT = 'remote/cluster-consistency-answer';
/** JIDs listed per kind of difference; the counts are whole. */
const MAX_LISTED = 100;
const ANSWER_TIMEOUT_MS = 10_000;

interface CheckRequest {
  token: string;
  requester: string;
  repair: boolean;
}

interface CheckAnswer {
  token: string;
  report: NodeConsistency;
}

/** What the check needs of the node while it is joined. */
export interface ConsistencyTarget {
  differences(): Promise<RouteDifferences>;
  /** Makes this node's routes and the map whole again. */
  repair(): Promise<unknown>;
  peers(): readonly string[];
  sendEvent(node: string, event: string, payload: unknown): Promise<boolean>;
}

export class ConsistencyChecks {
  private readonly waiting = new Map<string, (report: NodeConsistency) => void>();

  /** `target` is null while the node is not joined. */
  constructor(private readonly ctx: PluginContext, private readonly target: () => ConsistencyTarget | null) {
    ctx.hook<CheckRequest>(CHECK_EVENT, (request) => {
      if (typeof request?.token === 'string' && typeof request.requester === 'string') void this.answer(request);
      return true;
    });
    ctx.hook<CheckAnswer>(ANSWER_EVENT, (answer) => {
      if (typeof answer?.token === 'string' && answer.report) this.waiting.get(answer.token)?.(answer.report);
      return true;
    });
  }

  /** This node's check, then every other node's, in node order. */
  async all(repair: boolean): Promise<NodeConsistency[]> {
    const target = this.target();
    if (!target) return [];
    const peers = [...target.peers()];
    const [own, ...others] = await Promise.all([this.local(repair), ...peers.map((node) => this.ask(target, node, repair))]);
    return [own!, ...others].sort((a, b) => a.node.localeCompare(b.node));
  }

  async local(repair: boolean): Promise<NodeConsistency> {
    const node = this.ctx.kernel.nodeId;
    const target = this.target();
    try {
      if (!target) throw new Error('not joined');
      if (repair) await target.repair();
      const found = await target.differences();
      const report = shaped(node, repair, found);
      const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
      if (total) this.ctx.log.warn('cluster consistency check found differences', { repaired: repair, ...report.counts });
      return report;
    } catch (err) {
      return { ...shaped(node, repair, { unpublished: [], stale: [], missed: [], ghosts: [] }), error: err instanceof Error ? err.message : String(err) };
    }
  }

  private ask(target: ConsistencyTarget, node: string, repair: boolean): Promise<NodeConsistency> {
    const token = randomBytes(12).toString('base64url');
    const failed = (error: string): NodeConsistency => ({ ...shaped(node, repair, { unpublished: [], stale: [], missed: [], ghosts: [] }), error });
    return new Promise((resolve) => {
      const done = (report: NodeConsistency): void => {
        clearTimeout(timer);
        this.waiting.delete(token);
        resolve(report);
      };
      const timer = setTimeout(() => done(failed(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`)), ANSWER_TIMEOUT_MS);
      this.waiting.set(token, done);
      const request: CheckRequest = { token, requester: this.ctx.kernel.nodeId, repair };
      void target.sendEvent(node, CHECK_EVENT, request).then((taken) => { if (!taken) done(failed('unreachable over the cluster link')); });
    });
  }

  private async answer(request: CheckRequest): Promise<void> {
    const report = await this.local(request.repair === true);
    await this.target()?.sendEvent(request.requester, ANSWER_EVENT, { token: request.token, report } satisfies CheckAnswer);
  }
}

function shaped(node: string, repaired: boolean, found: RouteDifferences): NodeConsistency {
  const cap = (list: string[]): string[] => list.slice().sort().slice(0, MAX_LISTED);
  return {
    node,
    checkedAt: new Date().toISOString(),
    repaired,
    counts: { unpublished: found.unpublished.length, stale: found.stale.length, missed: found.missed.length, ghosts: found.ghosts.length },
    differences: { unpublished: cap(found.unpublished), stale: cap(found.stale), missed: cap(found.missed), ghosts: cap(found.ghosts) },
  };
}
