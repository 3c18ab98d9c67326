// How many caps queries (disco#info for a verification string nobody knows yet) one session
// may cause. Each costs a round trip and, when the answer verifies, a row in the shared
// cache, so a client announcing a new string with every presence is held back. The budget
// is per minute rather than per session: every `+notify` a client adds or drops makes a new
// string, and a long-lived client that changes its features now and then must not run out
// for good and silently stop getting notifications.
import type { ClientSession } from '../../session/client-session.ts';

const WINDOW_MS = 60_000;
/** Key in ClientSession.data: when the session's recent caps queries were sent. */
const SENT = 'pep/caps-queries';

/** Whether the session may cause one more caps query now; counts it if so. */
export function takeCapsQuery(session: Pick<ClientSession, 'data'>, perMinute: number, now = Date.now()): boolean {
  const recent = ((session.data.get(SENT) as number[] | undefined) ?? []).filter((t) => now - t < WINDOW_MS);
  const allowed = recent.length < perMinute;
  if (allowed) recent.push(now);
  session.data.set(SENT, recent);
  return allowed;
}
