// Group chat (XEP-0045) steps for protocol tests: join a room, read the muc#user part of
// what a room sends, configure a room with a form.
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from './raw-client.ts';
import { ADMIN_PROPERTIES, ADMIN_USER } from '../plugins/fixtures.ts';
import { startTestServer, type TestServer } from './server-process.ts';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const SERVICE = 'conference.localhost';

/** The status codes of a room's presence or message. */
export function statuses(el: Element): string[] {
  return el.getChild('x', NS_MUC_USER)?.getChildren('status').map((s) => s.attrs.code!) ?? [];
}

/** The muc#user item of a room's presence. */
export function item(el: Element): Element | undefined {
  return el.getChild('x', NS_MUC_USER)?.getChild('item');
}

/** Waits for a presence from the room about `nick` (of `type`, default available). */
export function presenceOf(client: RawClient, room: string, nick: string, type?: string, timeoutMs = 5_000): Promise<Element> {
  return client.expect((el) => el.name === 'presence' && el.attrs.from === `${room}@${SERVICE}/${nick}` && el.attrs.type === type, timeoutMs);
}

/** Waits for the subject message that ends a join. */
export function subjectOf(client: RawClient, room: string): Promise<Element> {
  return client.expect((el) => el.name === 'message' && el.attrs.from?.startsWith(`${room}@${SERVICE}`) === true && el.getChild('subject') !== undefined && !el.getChild('body'));
}

/** Sends a join with the MUC element (`inner`: password, history) and waits for the self-presence or an error. */
export async function join(client: RawClient, room: string, nick: string, inner = ''): Promise<Element> {
  const to = `${room}@${SERVICE}/${nick}`;
  const answer = client.expect((el) => el.name === 'presence' && el.attrs.from === to && (el.attrs.type === 'error' || statuses(el).includes('110')));
  client.send(`<presence to='${to}'><x xmlns='${NS_MUC}'>${inner}</x></presence>`);
  return answer;
}

/** Joins and waits for the whole welcome (presence, history, subject). */
export async function enter(client: RawClient, room: string, nick: string, inner = ''): Promise<Element> {
  const self = await join(client, room, nick, inner);
  if (self.attrs.type === 'error') throw new Error(`join refused: ${String(self)}`);
  await subjectOf(client, room);
  return self;
}

/** A muc#roomconfig submission with these fields (by short name). */
export function configSubmit(room: string, fields: Record<string, string | string[]>): string {
  const body = Object.entries(fields).map(([k, v]) => `<field var='${k.includes('#') ? k : `muc#roomconfig_${k}`}'>${(Array.isArray(v) ? v : [v]).map((x) => `<value>${x}</value>`).join('')}</field>`).join('');
  return `<iq type='set' to='${room}@${SERVICE}'><query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>${body}</x></query></iq>`;
}

/** Creates a room as its owner: joins (201), then configures it (an empty form: an instant room). */
export async function createRoom(owner: RawClient, room: string, nick: string, fields: Record<string, string | string[]> = {}): Promise<void> {
  const self = await join(owner, room, nick);
  if (!statuses(self).includes('201')) throw new Error(`room ${room} was not created: ${String(self)}`);
  const done = await owner.iq(configSubmit(room, fields));
  if (done.attrs.type !== 'result') throw new Error(`configuration refused: ${String(done)}`);
}

export function adminSet(room: string, items: string): string {
  return `<iq type='set' to='${room}@${SERVICE}'><query xmlns='${NS_MUC_ADMIN}'>${items}</query></iq>`;
}

/** Logs in alice, bob and carol (password `secret`, resources a, b, c) with initial presence. */
export async function loginTrio(server: TestServer): Promise<[RawClient, RawClient, RawClient]> {
  const out: RawClient[] = [];
  for (const name of ['alice', 'bob', 'carol']) {
    await server.addUser(name, 'secret');
    out.push(await RawClient.login(server.c2sPort, name, 'secret', { resource: name[0], presence: true }));
  }
  return out as [RawClient, RawClient, RawClient];
}

/** A server with the administrator of ADMIN_USER, and alice, bob and carol logged in (loginTrio): for the operators' tools. */
export async function startAdminTrio(): Promise<{ server: TestServer; trio: [RawClient, RawClient, RawClient] }> {
  const server = await startTestServer({ properties: ADMIN_PROPERTIES });
  await server.addUser('admin', ADMIN_USER[1]);
  return { server, trio: await loginTrio(server) };
}
