// Questions the group chat service of one node asks the service of another, and their
// answers: what the operators' tools need of a room held elsewhere (room-admin-cluster.ts),
// the rooms every node holds for the service's disco#items, how many rooms a user owns on
// each node. A question is a `remote/muc-request` event carrying an id and the asking node;
// the node asked runs it and answers with `remote/muc-answer` events on its own link (a long
// list in several parts, each of them well under the link's frame limit). Every question has
// its own deadline and is forgotten when answered or when the deadline passes, so nothing
// waits for a node that died or grows with questions nobody answers.
import type { Kernel } from '../../extension/kernel.ts';
import { RoomAdminError } from '../../extension/room-admin.ts';
import { inBatches } from './room-placement.ts';

export const ROOM_REQUEST_EVENT = 'remote/muc-request';
export const ROOM_ANSWER_EVENT = 'remote/muc-answer';

/** What one node may ask another (the asked node's RoomResponder says what each one does). */
export type RoomRequestOp = 'list' | 'get' | 'create' | 'change' | 'destroy' | 'directory' | 'owned';

export interface RoomRequest {
  id: number;
  /** The asking node, which the answer goes to. */
  node: string;
  op: RoomRequestOp;
  args: unknown[];
}

export interface RoomAnswer {
  id: number;
  /** The answering node. */
  node: string;
  value?: unknown;
  /** The refusal: a RoomAdminError's kind, or 'failed' for anything else (logged where it happened). */
  error?: { kind: RoomAdminError['kind'] | 'failed'; message: string };
  /** A list answer goes on in a later event. */
  more?: boolean;
}

/** Runs a question from another node here. */
export type RoomResponder = (op: RoomRequestOp, args: unknown[]) => Promise<unknown>;

interface Pending {
  node: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** The parts of a list answer received so far. */
  parts: unknown[];
}

const OPS: readonly RoomRequestOp[] = ['list', 'get', 'create', 'change', 'destroy', 'directory', 'owned'];

export class RoomRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly kernel: Kernel,
    private readonly respond: RoomResponder,
  ) {}

  /**
   * Asks one node; rejects with the RoomAdminError it answered, or with one of kind
   * 'unavailable' when the node cannot be reached or does not answer within `timeoutMs`.
   */
  ask(node: string, op: RoomRequestOp, args: unknown[], timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new RoomAdminError('unavailable', `node ${node} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
      this.pending.set(id, { node, resolve, reject, timer, parts: [] });
      const request: RoomRequest = { id, node: this.kernel.nodeId, op, args };
      void this.kernel.sendEvent(node, ROOM_REQUEST_EVENT, request).then((sent) => {
        if (!sent) this.settle(id, new RoomAdminError('unavailable', `node ${node} cannot be reached`));
      });
    });
  }

  /** Asks every other live node at once: their answers by node, and the nodes that gave none in time. */
  async gather(op: RoomRequestOp, args: unknown[], timeoutMs: number): Promise<{ answers: Map<string, unknown>; missing: string[] }> {
    const others = this.kernel.clusterNodes().filter((n) => n !== this.kernel.nodeId);
    const results = await Promise.allSettled(others.map((node) => this.ask(node, op, args, timeoutMs)));
    const answers = new Map<string, unknown>();
    const missing: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') answers.set(others[i]!, r.value);
      else missing.push(others[i]!);
    });
    return { answers, missing };
  }

  /** A `remote/muc-request` event: another node's question, answered on that node's link. */
  request(payload: unknown): void {
    const r = payload as RoomRequest;
    if (typeof r?.id !== 'number' || typeof r.node !== 'string' || !OPS.includes(r.op) || !Array.isArray(r.args)) return;
    const send = (answer: Omit<RoomAnswer, 'id' | 'node'>): Promise<boolean> => this.kernel.sendEvent(r.node, ROOM_ANSWER_EVENT, { id: r.id, node: this.kernel.nodeId, ...answer } satisfies RoomAnswer);
    void Promise.resolve().then(() => this.respond(r.op, r.args)).then((value) => {
      // A detail too large for one frame (a room of very many occupants) is refused by the
      // link: the asker hears why rather than waiting for its deadline.
      if (!Array.isArray(value)) {
        return void send({ value }).then((sent) => {
          if (!sent) void send({ error: { kind: 'unavailable', message: `node ${this.kernel.nodeId} could not send its answer (too large for the cluster link?)` } });
        });
      }
      const parts = inBatches(value);
      parts.forEach((part, i) => void send({ value: part, more: i < parts.length - 1 || undefined }));
    }, (err: unknown) => {
      if (err instanceof RoomAdminError) return void send({ error: { kind: err.kind, message: err.message } });
      this.kernel.reportError(`group chat: answering ${r.op} for node ${r.node}`, err);
      void send({ error: { kind: 'failed', message: `node ${this.kernel.nodeId} failed to answer (see its log)` } });
    });
  }

  /** A `remote/muc-answer` event: (part of) the answer to one of this node's questions. */
  answer(payload: unknown): void {
    const a = payload as RoomAnswer;
    if (typeof a?.id !== 'number') return;
    const p = this.pending.get(a.id);
    // Late (its deadline passed), or not from the node asked.
    if (!p || p.node !== a.node) return;
    if (a.more && Array.isArray(a.value)) {
      p.parts.push(...(a.value as unknown[]));
      return;
    }
    if (a.error) {
      const { kind, message } = a.error;
      return this.settle(a.id, kind === 'failed' ? new Error(message) : new RoomAdminError(kind, message));
    }
    const value = p.parts.length && Array.isArray(a.value) ? [...p.parts, ...(a.value as unknown[])] : a.value;
    this.settle(a.id, null, value);
  }

  private settle(id: number, err: Error | null, value?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(value);
  }

  /** The service goes away: every question still open fails now. */
  stop(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new RoomAdminError('unavailable', 'the group chat service is going away'));
  }
}
