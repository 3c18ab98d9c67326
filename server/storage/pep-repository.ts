import type { Knex } from 'knex';
import { keyOf, toCount, toDate } from './columns.ts';
import type { PepCreateResult, PepItem, PepNode, PepRepository } from './types.ts';

/** knex would make many values one compound SELECT on SQLite, which caps it at 500 terms. */
const CHUNK = 500;

interface NodeRow {
  id: number | string;
  username: string;
  node: string;
  config: string;
  created_at: unknown;
}

interface ItemRow {
  node_id?: number | string;
  item_id: string;
  payload: string;
  publisher: string;
  published_at: unknown;
}

const NODE_COLUMNS = ['id', 'username', 'node', 'config', 'created_at'];
const ITEM_COLUMNS = ['item_id', 'payload', 'publisher', 'published_at'];

function toNode(row: NodeRow): PepNode {
  return { id: Number(row.id), owner: row.username, node: row.node, config: JSON.parse(row.config) as Record<string, string>, createdAt: toDate(row.created_at) };
}

function toItem(row: ItemRow): PepItem {
  return { id: row.item_id, payload: row.payload, publisher: row.publisher, publishedAt: toDate(row.published_at) };
}

function chunks<T>(values: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += CHUNK) out.push(values.slice(i, i + CHUNK));
  return out;
}

/** XEP-0163 nodes of each account and their items (migrations/0008-pep.ts). */
export class SqlPepRepository implements PepRepository {
  constructor(private readonly knex: Knex) {}

  async getNode(owner: string, node: string): Promise<PepNode | null> {
    const row = await this.knex('pep_nodes').where({ user_key: keyOf(owner), node_key: keyOf(node) }).first(NODE_COLUMNS);
    return row ? toNode(row as NodeRow) : null;
  }

  async listNodes(owner: string): Promise<PepNode[]> {
    const rows: NodeRow[] = await this.knex('pep_nodes').where({ user_key: keyOf(owner) }).select(NODE_COLUMNS);
    return rows.map(toNode).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  async findNodes(owners: readonly string[], nodes: readonly string[]): Promise<PepNode[]> {
    if (!owners.length || !nodes.length) return [];
    const nodeKeys = nodes.map(keyOf).slice(0, CHUNK);
    const out: PepNode[] = [];
    for (const part of chunks(owners.map(keyOf))) {
      const rows: NodeRow[] = await this.knex('pep_nodes').whereIn('user_key', part).whereIn('node_key', nodeKeys).select(NODE_COLUMNS);
      out.push(...rows.map(toNode));
    }
    return out;
  }

  /**
   * Under a lock on the owner's row, as private storage does: the node count holds under
   * parallel requests from any node, and nothing is created for an account being deleted.
   */
  async createNode(owner: string, node: string, config: Record<string, string>, maxNodes: number): Promise<PepCreateResult> {
    const user_key = keyOf(owner);
    const node_key = keyOf(node);
    return this.knex.transaction(async (trx) => {
      const user = await trx('users').where({ user_key }).forUpdate().first('user_key');
      if (!user) return 'no-user';
      const existing = await trx('pep_nodes').where({ user_key, node_key }).first(NODE_COLUMNS);
      if (existing) return { created: false, node: toNode(existing as NodeRow) };
      if (maxNodes > 0) {
        const count = await trx('pep_nodes').where({ user_key }).count({ n: '*' }).first();
        if (toCount(count?.n) >= maxNodes) return 'over-limit';
      }
      await trx('pep_nodes').insert({ user_key, username: owner, node_key, node, config: JSON.stringify(config), created_at: new Date() });
      const row = await trx('pep_nodes').where({ user_key, node_key }).first(NODE_COLUMNS);
      return { created: true, node: toNode(row as NodeRow) };
    });
  }

  async setConfig(nodeId: number, config: Record<string, string>): Promise<void> {
    await this.knex('pep_nodes').where({ id: nodeId }).update({ config: JSON.stringify(config) });
  }

  async deleteNode(nodeId: number): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      await trx('pep_items').where({ node_id: nodeId }).delete();
      return (await trx('pep_nodes').where({ id: nodeId }).delete()) > 0;
    });
  }

  async publish(nodeId: number, item: Omit<PepItem, 'publishedAt'>, maxItems: number): Promise<string[]> {
    const item_key = keyOf(item.id);
    return this.knex.transaction(async (trx) => {
      // The node's row is locked first, so parallel publishers trim one after the other.
      const node = await trx('pep_nodes').where({ id: nodeId }).forUpdate().first('id');
      if (!node) return [];
      // Deleted and inserted again rather than updated: a republished id becomes the newest.
      await trx('pep_items').where({ node_id: nodeId, item_key }).delete();
      await trx('pep_items').insert({ node_id: nodeId, item_key, item_id: item.id, payload: item.payload, publisher: item.publisher, published_at: new Date() });
      const excess: { seq: number | string; item_id: string }[] = await trx('pep_items')
        .where({ node_id: nodeId })
        .orderBy('seq', 'desc')
        .offset(Math.max(maxItems, 1))
        .limit(1_000_000)
        .select('seq', 'item_id');
      for (const part of chunks(excess.map((r) => r.seq))) await trx('pep_items').whereIn('seq', part).delete();
      return excess.map((r) => r.item_id);
    });
  }

  async items(nodeId: number, opts: { ids?: readonly string[]; max?: number } = {}): Promise<PepItem[]> {
    if (opts.ids) {
      const out: PepItem[] = [];
      for (const part of chunks(opts.ids.map(keyOf))) {
        const rows: ItemRow[] = await this.knex('pep_items').where({ node_id: nodeId }).whereIn('item_key', part).orderBy('seq').select(ITEM_COLUMNS);
        out.push(...rows.map(toItem));
      }
      return out;
    }
    const query = this.knex('pep_items').where({ node_id: nodeId }).orderBy('seq', 'desc');
    if (opts.max !== undefined) query.limit(opts.max);
    const rows: ItemRow[] = await query.select(ITEM_COLUMNS);
    return rows.map(toItem).reverse();
  }

  async lastItems(nodeIds: readonly number[]): Promise<Map<number, PepItem>> {
    const out = new Map<number, PepItem>();
    for (const part of chunks(nodeIds)) {
      const newest = this.knex('pep_items').whereIn('node_id', part).groupBy('node_id').max({ seq: 'seq' });
      const rows: ItemRow[] = await this.knex('pep_items').whereIn('seq', newest).select(['node_id', ...ITEM_COLUMNS]);
      for (const row of rows) out.set(Number(row.node_id), toItem(row));
    }
    return out;
  }

  async retract(nodeId: number, itemId: string): Promise<boolean> {
    return (await this.knex('pep_items').where({ node_id: nodeId, item_key: keyOf(itemId) }).delete()) > 0;
  }

  async purge(nodeId: number): Promise<string[]> {
    return this.knex.transaction(async (trx) => {
      // Under the node's lock, like publish: an item published meanwhile is either gone or kept whole.
      const node = await trx('pep_nodes').where({ id: nodeId }).forUpdate().first('id');
      if (!node) return [];
      const ids = (await trx('pep_items').where({ node_id: nodeId }).orderBy('seq').select('item_id')).map((r: { item_id: string }) => r.item_id);
      await trx('pep_items').where({ node_id: nodeId }).delete();
      return ids;
    });
  }

  async deleteOwner(owner: string): Promise<void> {
    const user_key = keyOf(owner);
    await this.knex.transaction(async (trx) => {
      const ids = (await trx('pep_nodes').where({ user_key }).select('id')).map((r: { id: number | string }) => Number(r.id));
      for (const part of chunks(ids)) await trx('pep_items').whereIn('node_id', part).delete();
      await trx('pep_nodes').where({ user_key }).delete();
    });
  }
}
