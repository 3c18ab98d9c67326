import type { Knex } from 'knex';
import { keyOf, toDate } from './columns.ts';
import type { MucRepository, StoredAffiliation, StoredRoom } from './types.ts';

/** Persistent group chat rooms: one row per room, one per affiliation. */
export class SqlMucRepository implements MucRepository {
  constructor(private readonly knex: Knex) {}

  async rooms(): Promise<StoredRoom[]> {
    const rooms = await this.knex('muc_rooms').select('room_key', 'room', 'config', 'subject', 'subject_by', 'created_at');
    const affiliations = await this.knex('muc_affiliations').select('room_key', 'jid', 'affiliation', 'reason');
    const byRoom = new Map<string, StoredAffiliation[]>();
    for (const a of affiliations) {
      const list = byRoom.get(a.room_key as string) ?? [];
      list.push({ jid: a.jid as string, affiliation: a.affiliation as StoredAffiliation['affiliation'], reason: a.reason as string });
      byRoom.set(a.room_key as string, list);
    }
    return rooms.map((r) => ({
      name: r.room as string,
      config: JSON.parse(r.config as string) as Record<string, unknown>,
      subject: r.subject as string,
      subjectBy: r.subject_by as string,
      affiliations: byRoom.get(r.room_key as string) ?? [],
      createdAt: toDate(r.created_at),
    }));
  }

  async saveRoom(room: Omit<StoredRoom, 'affiliations'>): Promise<void> {
    await this.knex('muc_rooms')
      .insert({ room_key: keyOf(room.name), room: room.name, config: JSON.stringify(room.config), subject: room.subject, subject_by: room.subjectBy, created_at: new Date() })
      .onConflict(['room_key'])
      .merge(['config', 'subject', 'subject_by']);
  }

  async saveAffiliations(name: string, affiliations: readonly StoredAffiliation[]): Promise<void> {
    const room_key = keyOf(name);
    await this.knex.transaction(async (trx) => {
      await trx('muc_affiliations').where({ room_key }).delete();
      // One row per statement: knex would make several rows one compound SELECT on SQLite, capped at 500 terms.
      for (const a of affiliations) {
        await trx('muc_affiliations').insert({ room_key, jid_key: keyOf(a.jid), jid: a.jid, affiliation: a.affiliation, reason: a.reason });
      }
    });
  }

  async deleteRoom(name: string): Promise<void> {
    const room_key = keyOf(name);
    await this.knex.transaction(async (trx) => {
      await trx('muc_affiliations').where({ room_key }).delete();
      await trx('muc_rooms').where({ room_key }).delete();
    });
  }

  async deleteJid(jid: string): Promise<void> {
    await this.knex('muc_affiliations').where({ jid_key: keyOf(jid) }).delete();
  }
}
