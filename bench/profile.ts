// Profiles the server under one load: starts it with `node --cpu-prof`, runs the scenario
// from the load generator (pinned as in bench/run.ts), stops the server and prints the
// functions and files with the most self time.
//
//   node --import tsx bench/profile.ts                       50 pairs x 10 messages, 15 s
//   node --import tsx bench/profile.ts --scenario logins-scram --out /tmp/p.cpuprofile
//   node --import tsx bench/profile.ts --scenario group-chat   joins into a room of 1,000, then 5 × 2 into it
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Scenario } from './load/generator.ts';
import { progress } from './load/progress.ts';
import { runGenerator } from './lib/child.ts';
import { formatSummary, summarizeProfile } from './lib/cpu-profile.ts';
import { startXmppd } from './targets/xmppd.ts';

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'messages' },
    seconds: { type: 'string', default: '15' },
    top: { type: 'string', default: '25' },
    out: { type: 'string' },
    'server-cpu': { type: 'string', default: '0' },
    'generator-cpu': { type: 'string', default: '1' },
  },
});

const seconds = Number(args.seconds);
const profileDir = mkdtempSync(join(tmpdir(), 'xmppd-profile-'));
const server = await startXmppd({
  users: 1001, cpu: Number(args['server-cpu']), plainCache: args.scenario !== 'logins-plain-cold', cpuProfileDir: profileDir,
  properties: { 'xmpp.muc.max-occupants': '0' },
});
const base = { ...server.endpoint, serverPids: server.pids, warmupSeconds: 2, seconds };
const scenarios: Record<string, Scenario> = {
  messages: { scenario: 'messages', ...base, mechanism: 'SCRAM-SHA-256', pairs: 50, window: 10, address: 'full' },
  'messages-sm': { scenario: 'messages', ...base, mechanism: 'SCRAM-SHA-256', pairs: 50, window: 10, address: 'full', streamManagement: true },
  'messages-bare': { scenario: 'messages', ...base, mechanism: 'SCRAM-SHA-256', pairs: 50, window: 10, address: 'bare' },
  'logins-scram': { scenario: 'logins', ...base, mechanism: 'SCRAM-SHA-256', concurrency: 50, users: 1000 },
  'logins-plain': { scenario: 'logins', ...base, mechanism: 'PLAIN', concurrency: 50, users: 200 },
  'logins-plain-cold': { scenario: 'logins', ...base, mechanism: 'PLAIN', concurrency: 50, users: 1000 },
  'group-chat': {
    scenario: 'group-chat', ...base, mechanism: 'SCRAM-SHA-256', service: 'conference.localhost', room: 'profile',
    occupants: 1000, history: 20, joinConcurrency: 50, loads: [{ senders: 5, window: 2 }],
  },
};
const scenario = scenarios[args.scenario!];
try {
  try {
    if (!scenario) throw new Error(`unknown scenario ${args.scenario}; one of ${Object.keys(scenarios).join(', ')}`);
    const result = await runGenerator(Number(args['generator-cpu']), scenario);
    console.log(JSON.stringify(result));
  } finally {
    await server.stop();
  }
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the server wrote no profile into ${profileDir}`);
  const path = join(profileDir, file);
  progress('profile', `whole server run (startup, logins, warm-up and ${seconds} s of ${args.scenario}):`);
  console.log(formatSummary(summarizeProfile(path, Number(args.top))));
  if (args.out) {
    copyFileSync(path, args.out);
    console.log(`\nprofile written to ${args.out} (open it in Chrome DevTools > Performance)`);
  }
} finally {
  rmSync(profileDir, { recursive: true, force: true });
}
