// npm run hazelcast:member [-- --config FILE] [-- --port N]: runs one Hazelcast member in the
// foreground from the fetched jar, logging to stdout; Ctrl-C or SIGTERM stops it (gracefully,
// as conf/hazelcast/member.xml asks). JAVA_OPTS adds JVM options (heap, -Dhz.* overrides).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { JAVA_PURPOSE, MEMBER_CONFIG, memberJar, memberJavaArgs, missingJarMessage, toolProblem } from './hazelcast-jar.ts';

const USAGE = 'usage: npm run hazelcast:member [-- --config FILE] [--port N]';

function fail(message: string, code = 1): never {
  process.stderr.write(`hazelcast:member: ${message}\n`);
  process.exit(code);
}

let config = MEMBER_CONFIG;
let port: number | null = null;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  const value = (): string => args[++i] ?? fail(`${arg} needs a value\n${USAGE}`, 2);
  if (arg === '--config') config = resolve(value());
  else if (arg === '--port') {
    const text = value();
    port = Number(text);
    if (!/^\d+$/.test(text) || port < 1 || port > 65535) fail(`--port: "${text}" is not a TCP port\n${USAGE}`, 2);
  } else if (arg === '--help' || arg === '-h') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else fail(`unknown argument "${arg}"\n${USAGE}`, 2);
}

if (!existsSync(config)) fail(`no member configuration file ${config}`);
if (!existsSync(memberJar())) fail(missingJarMessage());
const javaProblem = toolProblem('java', ['-version'], JAVA_PURPOSE);
if (javaProblem) fail(javaProblem);

// --port wins over the file's <port> and pins it: asking for a port and silently getting the
// next one would put the member where nobody's member list looks for it.
const jvmOptions = [
  ...(port === null ? [] : [`-Dhz.network.port.port=${port}`, '-Dhz.network.port.auto-increment=false']),
  ...(process.env.JAVA_OPTS?.split(/\s+/).filter(Boolean) ?? []),
];
// The JDK logger writes to stderr; the member's log goes to stdout like any service's.
const member = spawn('java', memberJavaArgs({ config, jvmOptions }), { stdio: ['ignore', 'inherit', 1] });
member.on('error', (err) => fail(`java could not start: ${err.message}`));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => member.kill(signal));
}
// npm does not pass SIGTERM on to the script it runs: under npm, when npm goes away, stop the
// member rather than leave it holding its port with nobody to stop it. (Run directly, the
// script may outlive its parent on purpose, as under nohup.)
if (process.env.npm_lifecycle_event) {
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && member.kill('SIGTERM'), 1000).unref();
}
member.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
