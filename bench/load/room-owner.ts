// The room of the group chat bench, set up by its owner the way a client does it
// (XEP-0045 10.1): join a room that does not exist yet, accept the default configuration
// (an instant room), set a subject, and post the messages that joiners will get as history.
// Each step waits for the server's answer, so that the room is complete before anyone joins.
import type { LoggedIn } from './login.ts';
import { StreamReader } from './stream-reader.ts';

export const NS_MUC = 'http://jabber.org/protocol/muc';

/** A stanza of the owner's stream, whole: opening to closing tag, or self-closed. */
const STANZA = /<(presence|message|iq)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1>)/;

export interface RoomSetup {
  /** room@service */
  room: string;
  nick: string;
  subject: string;
  history: number;
}

export function joinPresence(room: string, nick: string): string {
  return `<presence to='${room}/${nick}'><x xmlns='${NS_MUC}'/></presence>`;
}

async function until(reader: StreamReader, what: string, done: (stanza: string) => boolean): Promise<void> {
  for (;;) {
    const stanza = (await reader.expect(STANZA, 30_000))[0];
    if (/^<\w+\b[^>]*\btype=(['"])error\1/.test(stanza)) throw new Error(`${what}: the server answered with an error: ${stanza.slice(0, 500)}`);
    if (done(stanza)) return;
  }
}

/** Creates the room; the owner stays in it. Takes the socket's data events only while it runs. */
export async function setUpRoom(owner: LoggedIn, o: RoomSetup): Promise<void> {
  const reader = new StreamReader(`owner of ${o.room}`);
  const onData = (chunk: Buffer): void => reader.push(chunk);
  owner.socket.on('data', onData);
  try {
    owner.socket.write(joinPresence(o.room, o.nick));
    await until(reader, 'creating the room', (s) => s.startsWith('<presence') && /\bcode=(['"])110\1/.test(s));
    owner.socket.write(`<iq type='set' id='instant' to='${o.room}'><query xmlns='${NS_MUC}#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`);
    await until(reader, 'accepting the default configuration', (s) => s.startsWith('<iq') && /\bid=(['"])instant\1/.test(s));
    owner.socket.write(`<message to='${o.room}' type='groupchat' id='subject'><subject>${o.subject}</subject></message>`);
    await until(reader, 'setting the subject', (s) => s.startsWith('<message') && s.includes('</subject>'));
    for (let i = 0; i < o.history; i++) {
      owner.socket.write(`<message to='${o.room}' type='groupchat' id='history-${i}'><body>history message ${i}: what was said before you came</body></message>`);
      await until(reader, `posting history message ${i}`, (s) => s.startsWith('<message') && s.includes(`history message ${i}:`));
    }
  } finally {
    owner.socket.off('data', onData);
  }
}
