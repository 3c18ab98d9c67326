// One Hazelcast member for the cluster benchmark, run as an operator runs it: the shipped
// conf/hazelcast/member.xml and JVM options (scripts/hazelcast-jar.ts), with a cluster name of
// its own and a free port given as Hazelcast overrides, so it never meets another member
// running on this host. Its log goes to a file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { JAVA_PURPOSE, MEMBER_CONFIG, memberJar, memberJavaArgs, missingJarMessage, toolProblem } from '../../scripts/hazelcast-jar.ts';
import { stopProcess } from '../../test/helpers/processes.ts';
import { freePort } from './net-utils.ts';
import { dieWithParent } from './teardown.ts';

export interface BenchMember {
  pid: number;
  clusterName: string;
  /** host:port, for the nodes' client configuration. */
  address: string;
  logFile: string;
  /** SIGTERM (a graceful shutdown), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;

export async function startBenchMember(logFile: string): Promise<BenchMember> {
  if (!existsSync(memberJar())) throw new Error(missingJarMessage());
  const javaProblem = toolProblem('java', ['-version'], JAVA_PURPOSE);
  if (javaProblem) throw new Error(javaProblem);
  const clusterName = `xmppd-bench-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const proc = spawn('java', memberJavaArgs({
    config: MEMBER_CONFIG,
    jvmOptions: [`-Dhz.clustername=${clusterName}`, `-Dhz.network.port.port=${port}`, '-Dhz.network.port.auto-increment=false'],
  }), { stdio: ['ignore', log, log] });
  dieWithParent(proc);
  const stop = (): Promise<void> => stopProcess(proc, 15_000);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const out = readFileSync(logFile, 'utf8');
    if (out.includes(' is STARTED')) break;
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the Hazelcast member did not start (log ${logFile}):\n${out.split('\n').slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { pid: proc.pid!, clusterName, address: `127.0.0.1:${port}`, logFile, stop };
}

/** Writes a Hazelcast client configuration for the nodes that reaches `member`. */
export function writeClientConfig(file: string, member: Pick<BenchMember, 'clusterName' | 'address'>): void {
  writeFileSync(file, `<?xml version="1.0"?>
<hazelcast-client xmlns="http://www.hazelcast.com/schema/client-config">
  <cluster-name>${member.clusterName}</cluster-name>
  <network><cluster-members><address>${member.address}</address></cluster-members></network>
</hazelcast-client>
`);
}
