// Real Hazelcast members for tests: JVMs started from the fetched jar (npm run hazelcast:fetch)
// on free ports of 127.0.0.1, with a configuration written for the test, as an operator would
// run them but with fast failure detection. Members never outlive the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JAVA_PURPOSE, memberJar, memberJavaArgs, missingJarMessage, toolProblem } from '../../scripts/hazelcast-jar.ts';
import { freePort, stopProcess } from './processes.ts';

export interface HazelcastClusterOptions {
  /** How many members (default 1). */
  members?: number;
  /** Default: a random name, so clusters of concurrent tests never merge. */
  clusterName?: string;
  /** The members' ports (default: free ones); its length wins over `members`. */
  ports?: number[];
}

export interface HazelcastCluster {
  clusterName: string;
  /** host:port of every member, for a client's member list. */
  addresses: string[];
  members: HazelcastMember[];
  /** Stops every member still running and removes the generated configuration. */
  stop(): Promise<void>;
}

// Fast failure detection: a killed member is noticed at once through its closed connections; a
// hung one after 6 s. Split clusters (members that missed each other at startup) merge within
// seconds instead of minutes. The join waits connection-timeout-seconds for the other members'
// answers (5 s by default): 1 s is plenty on loopback and makes a cluster form in about 3 s.
// Health reports would only fill the logs of a busy test machine.
function memberConfig(clusterName: string, port: number, ports: number[]): string {
  const members = ports.map((p) => `<member>127.0.0.1:${p}</member>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<hazelcast xmlns="http://www.hazelcast.com/schema/config">
  <cluster-name>${clusterName}</cluster-name>
  <properties>
    <property name="hazelcast.phone.home.enabled">false</property>
    <property name="hazelcast.socket.bind.any">false</property>
    <property name="hazelcast.heartbeat.interval.seconds">1</property>
    <property name="hazelcast.max.no.heartbeat.seconds">6</property>
    <property name="hazelcast.merge.first.run.delay.seconds">5</property>
    <property name="hazelcast.merge.next.run.delay.seconds">5</property>
    <property name="hazelcast.health.monitoring.level">OFF</property>
  </properties>
  <network>
    <port auto-increment="false">${port}</port>
    <join>
      <auto-detection enabled="false"/>
      <multicast enabled="false"/>
      <tcp-ip enabled="true" connection-timeout-seconds="1"><member-list>${members}</member-list></tcp-ip>
    </join>
    <interfaces enabled="true"><interface>127.0.0.1</interface></interfaces>
  </network>
  <map name="xmppd.*"><backup-count>1</backup-count></map>
</hazelcast>
`;
}

// A test JVM lives seconds: skip the optimising compiler and the parallel collector.
const TEST_JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx256m'];
const START_TIMEOUT_MS = 90_000;

export class HazelcastMember {
  private output = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly port: number,
    private readonly proc: ChildProcess,
  ) {
    proc.on('error', (err) => (this.output += `java could not run: ${err.message}\n`));
    proc.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  logs(): string {
    return this.output;
  }

  /** The member count in the member's latest "Members {size:N" report, 0 before the first. */
  clusterSize(): number {
    const sizes = [...this.output.matchAll(/Members \{size:(\d+)/g)];
    return sizes.length ? Number(sizes.at(-1)![1]) : 0;
  }

  /** Addresses (host:port) in the member's latest member list. */
  clusterMembers(): string[] {
    const from = this.output.lastIndexOf('Members {size:');
    if (from === -1) return [];
    const list = this.output.slice(from, this.output.indexOf(']\n', from) + 1 || undefined);
    return [...list.matchAll(/Member \[([^\]]+)\]:(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
  }

  /** Resolves once the member reports `size` members; rejects if it exits or `timeoutMs` passes. */
  async waitForClusterSize(size: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.output.includes(' is STARTED') && this.clusterSize() === size)) {
      if (!this.running) throw new Error(`member ${this.address} exited (${this.proc.exitCode ?? this.proc.signalCode}):\n${this.tail()}`);
      if (Date.now() > deadline) {
        throw new Error(`member ${this.address} did not report ${size} members in ${timeoutMs} ms (last: ${this.clusterSize()}):\n${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Sends `signal` (default SIGKILL: a crash) and resolves when the JVM has exited; SIGSTOP (a
   * hung member) and SIGCONT resolve at once.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.proc.kill(signal);
    if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') await this.exited;
  }

  /** SIGTERM (Hazelcast's shutdown hook leaves the cluster), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    await stopProcess(this.proc, 15_000);
  }

  tail(lines = 40): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }
}

// Every member JVM started by this process, killed when the process ends however it ends, and
// the folders of generated configurations still in use.
const live = new Set<ChildProcess>();
const configDirs = new Set<string>();
let exitHooked = false;

function killAll(): void {
  for (const proc of live) proc.kill('SIGKILL');
  live.clear();
  for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
  configDirs.clear();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal); // the default action, now that our handler is gone
    });
  }
}

/**
 * SIGKILL of the test process runs no handler: a watchdog shell holds a pipe from this process
 * and kills the member when the pipe closes without the all-clear line sent at member exit.
 */
function watch(proc: ChildProcess): void {
  const watchdog = spawn('sh', ['-c', `read ok || kill -9 ${proc.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  proc.once('exit', () => watchdog.stdin!.end('ok\n'));
}

function checkPrerequisites(): void {
  if (!existsSync(memberJar())) throw new Error(missingJarMessage());
  const javaProblem = toolProblem('java', ['-version'], JAVA_PURPOSE);
  if (javaProblem) throw new Error(javaProblem);
}

/** Starts `members` member JVMs in parallel and resolves once they form one cluster. */
export async function startHazelcastCluster(opts: HazelcastClusterOptions = {}): Promise<HazelcastCluster> {
  checkPrerequisites();
  const count = opts.ports?.length ?? opts.members ?? 1;
  const clusterName = opts.clusterName ?? `xmppd-test-${randomBytes(4).toString('hex')}`;
  const ports: number[] = [...(opts.ports ?? [])];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const dir = mkdtempSync(join(tmpdir(), 'xmppd-hazelcast-'));
  configDirs.add(dir);
  hookExit();
  const removeDir = (): void => {
    rmSync(dir, { recursive: true, force: true });
    configDirs.delete(dir);
  };

  const members = ports.map((port) => {
    const config = join(dir, `member-${port}.xml`);
    writeFileSync(config, memberConfig(clusterName, port, ports));
    const proc = spawn('java', memberJavaArgs({ config, jvmOptions: TEST_JVM_OPTIONS }), { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    watch(proc);
    return new HazelcastMember(port, proc);
  });

  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.stop()));
    removeDir();
  };
  try {
    await Promise.all(members.map((m) => m.waitForClusterSize(count, START_TIMEOUT_MS)));
  } catch (err) {
    await Promise.all(members.map((m) => m.kill()));
    removeDir();
    throw err;
  }
  return { clusterName, addresses: members.map((m) => m.address), members, stop };
}
