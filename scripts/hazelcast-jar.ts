// Where the Hazelcast member jar lives and how a member JVM is started, shared by
// `npm run hazelcast:fetch`, `npm run hazelcast:member` and the test harness. The version is
// read from conf/hazelcast/pom.xml, the one place it is pinned.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const POM = join(ROOT, 'conf', 'hazelcast', 'pom.xml');
export const LIB_DIR = join(ROOT, 'data', 'hazelcast', 'lib');
export const MEMBER_CONFIG = join(ROOT, 'conf', 'hazelcast', 'member.xml');
export const MEMBER_MAIN = 'com.hazelcast.core.server.HazelcastMemberStarter';

export function hazelcastVersion(): string {
  const match = /<hazelcast\.version>\s*([^<\s]+)\s*<\/hazelcast\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!match) throw new Error(`${relative(ROOT, POM)}: no <hazelcast.version> property`);
  return match[1]!;
}

export function memberJar(): string {
  return join(LIB_DIR, `hazelcast-${hazelcastVersion()}.jar`);
}

/** The jar's path relative to the project root, for messages. */
export function memberJarName(): string {
  return relative(ROOT, memberJar());
}

/** Why the jar is missing and what to do, worded for CI or for a developer's machine. */
export function missingJarMessage(): string {
  const what = `the Hazelcast member jar ${memberJarName()} is missing`;
  return process.env.CI === 'true'
    ? `${what}: the CI script fetches it with \`npm run hazelcast:fetch\` before the tests, and that step did not leave it there`
    : `${what}: run \`npm run hazelcast:fetch\` (needs Maven and Java 17 or later)`;
}

/** Null when `command` runs, else a one-line reason (not installed, or failing). */
export function toolProblem(command: string, args: string[], purpose: string): string | null {
  const run = spawnSync(command, args, { stdio: 'ignore' });
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `\`${command}\` was not found on PATH: ${purpose}` : `\`${command}\` could not run (${run.error.message}): ${purpose}`;
  }
  return run.status === 0 ? null : `\`${command} ${args.join(' ')}\` exited with ${run.status}: ${purpose}`;
}

export const JAVA_PURPOSE = 'Hazelcast members need Java 17 or later';

// Hazelcast reads JDK internals for its metrics and fast I/O; without these flags a member
// still runs but warns on every start.
const MODULE_FLAGS = [
  '--add-modules', 'java.se',
  '--add-exports', 'java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
  '--add-opens', 'java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens', 'java.management/sun.management=ALL-UNNAMED',
  '--add-opens', 'jdk.management/com.sun.management.internal=ALL-UNNAMED',
];

/** One line per log record (the JDK default spreads each over two). */
const LOG_FORMAT = '-Djava.util.logging.SimpleFormatter.format=%1$tF %1$tT.%1$tL %4$s %3$s %5$s%6$s%n';

export interface MemberCommand {
  /** Member configuration file (Hazelcast XML). */
  config: string;
  /** Extra JVM options, before the main class (heap, -D overrides). */
  jvmOptions?: string[];
}

/** The java arguments that run one member from the fetched jar. */
export function memberJavaArgs(cmd: MemberCommand): string[] {
  return [
    '-Xms64m', '-Xmx512m',
    ...MODULE_FLAGS,
    LOG_FORMAT,
    `-Dhazelcast.config=${cmd.config}`,
    ...(cmd.jvmOptions ?? []),
    '-cp', memberJar(),
    MEMBER_MAIN,
  ];
}
