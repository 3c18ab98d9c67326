// The load generator process: runs one scenario against one server and prints its result as
// one JSON line on stdout (progress goes to stderr). bench/run.ts starts it pinned to a core
// of its own; it can also be run by hand:
//   taskset -c 1 node --import tsx bench/load/generator.ts '{"scenario":"messages", ...}'
import { runGroupChat, type GroupChatParams } from './group-chat.ts';
import { runLogins, type LoginsParams } from './logins.ts';
import { runMessages, type MessagesParams } from './messages.ts';
import { runRegister, type RegisterParams } from './register-users.ts';
import { runSessions, type SessionsParams } from './sessions.ts';

export type Scenario =
  | ({ scenario: 'logins' } & LoginsParams)
  | ({ scenario: 'messages' } & MessagesParams)
  | ({ scenario: 'sessions' } & SessionsParams)
  | ({ scenario: 'register' } & RegisterParams)
  | ({ scenario: 'group-chat' } & GroupChatParams);

async function run(s: Scenario): Promise<unknown> {
  switch (s.scenario) {
    case 'logins': return runLogins(s);
    case 'messages': return runMessages(s);
    case 'sessions': return runSessions(s);
    case 'register': return runRegister(s);
    case 'group-chat': return runGroupChat(s);
  }
}

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: generator.ts SCENARIO_JSON\n');
  process.exit(2);
}
try {
  const result = await run(JSON.parse(arg) as Scenario);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
} catch (err) {
  process.stderr.write(`generator: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}
