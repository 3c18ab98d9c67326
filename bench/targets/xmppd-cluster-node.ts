// One node of a clustered xmppd for bench/cluster.ts: `node bin/xmppd.js start` as an operator
// runs it, on the shared MariaDB database, with its own node id, data folder and plugins folder
// (the clustering plugin dropped in as a folder), pinned to a CPU or left to the scheduler.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess } from '../../test/helpers/processes.ts';
import type { Endpoint } from '../load/login.ts';
import { clusterMembers } from '../lib/cluster-report.ts';
import { waitForPort } from '../lib/net-utils.ts';
import { serverEnv } from '../lib/server-env.ts';
import { dieWithParent } from '../lib/teardown.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'xmppd.js');
export const PLUGIN_DIR = join(ROOT, 'plugins', 'hazelcast');

export interface ClusterNodeOptions {
  nodeId: string;
  /** CPU to pin the node to (taskset), or null for none. */
  cpu: number | null;
  databaseUrl: string;
  /** Scratch folder of this node: data, plugins, log. */
  dir: string;
  logLevel: string;
  /** Write a V8 CPU profile of the node here when it stops. */
  cpuProfileDir?: string;
  /** The plugin folder to drop in (plugin.json, index.js); default plugins/hazelcast. */
  plugin?: string;
}

export interface ClusterNode {
  nodeId: string;
  pid: number;
  endpoint: Endpoint;
  httpPort: number;
  logFile: string;
  /** Node ids of the cluster this node reports in /status (none while standalone). */
  members(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startClusterNode(o: ClusterNodeOptions): Promise<ClusterNode> {
  const plugins = join(o.dir, 'plugins');
  mkdirSync(join(plugins, 'hazelcast'), { recursive: true });
  for (const file of ['plugin.json', 'index.js']) copyFileSync(join(o.plugin ?? PLUGIN_DIR, file), join(plugins, 'hazelcast', file));
  const { env, ports: { c2s, http } } = await serverEnv({
    nodeId: o.nodeId, dataDir: join(o.dir, 'data'), databaseUrl: o.databaseUrl, pluginsDir: plugins, logLevel: o.logLevel,
  });
  // The link port is the node's own setting: any free one, so that two nodes share the host.
  env.XMPPD_CLUSTER_LINK_PORT = '0';
  const logFile = join(o.dir, 'xmppd.log');
  const log = openSync(logFile, 'a');
  const node = [process.execPath, ...(o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : []), BIN, 'start'];
  // taskset execs node: the pid is the server's own either way.
  const proc = o.cpu === null
    ? spawn(node[0]!, node.slice(1), { cwd: ROOT, env, stdio: ['ignore', log, log] })
    : spawn('taskset', ['-c', String(o.cpu), ...node], { cwd: ROOT, env, stdio: ['ignore', log, log] });
  dieWithParent(proc);
  try {
    await waitForPort('127.0.0.1', c2s, 60_000, () => proc.exitCode === null);
  } catch (err) {
    await stopProcess(proc, 5_000);
    throw new Error(`${o.nodeId}: ${(err as Error).message}\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
  }
  return {
    nodeId: o.nodeId,
    pid: proc.pid!,
    endpoint: { host: '127.0.0.1', port: c2s, domain: 'localhost' },
    httpPort: http,
    logFile,
    async members() {
      const res = await fetch(`http://127.0.0.1:${http}/status`);
      return clusterMembers(await res.json());
    },
    // A clean stop leaves the cluster first (its routes, its member entry).
    stop: () => stopProcess(proc, 15_000),
  };
}
