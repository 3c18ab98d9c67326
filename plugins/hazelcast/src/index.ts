// The clustering plugin: with `clustering.enabled` on, this node joins the Hazelcast cluster
// named in the client configuration, shares its session routes through it and reaches the
// other nodes over direct links; with it off (the default), the node is standalone. The
// setting lives in the shared database, so turning it on or off from any node (admin API,
// console, `xmppd property set`) reaches every node within seconds. What differs per node
// (the link address, the client configuration file) comes from the node's own configuration
// file (node-settings.ts). See docs/clustering.md.
import { type Plugin, type PluginContext } from 'xmppd';
import { readClientSettings } from './client-config.ts';
import { ConsistencyChecks } from './consistency.ts';
import { ClusterNode, LEAVING_EVENT } from './cluster-node.ts';
import { Clustering } from './clustering.ts';
import { nodeSettings } from './node-settings.ts';

const plugin: Plugin = {
  load(ctx: PluginContext) {
    const enabled = ctx.property<boolean>('clustering.enabled');
    const startupDelay = ctx.property<number>('hazelcast.startup.delay.seconds');
    const retryCount = ctx.property<number>('hazelcast.startup.retry.count');
    const retrySeconds = ctx.property<number>('hazelcast.startup.retry.seconds');
    const rejoinMax = ctx.property<number>('hazelcast.rejoin.max.seconds');
    const maxExecution = ctx.property<number>('hazelcast.max.execution.seconds');
    const heartbeat = ctx.property<number>('hazelcast.heartbeat.seconds');
    const nodeTimeout = ctx.property<number>('hazelcast.node.timeout.seconds');

    let node: ClusterNode | null = null;
    let attempt: ClusterNode | null = null;
    const checks = new ConsistencyChecks(ctx, () => node?.consistencyTarget() ?? null);
    ctx.hook<{ node?: unknown }>(LEAVING_EVENT, (payload) => {
      if (typeof payload?.node === 'string') node?.peerLeaving(payload.node);
      return true;
    });
    const clustering: Clustering = new Clustering({
      startupDelayMs: () => startupDelay.value * 1000,
      retry: () => ({ count: retryCount.value, pauseMs: retrySeconds.value * 1000 }),
      rejoinMaxMs: () => rejoinMax.value * 1000,
      log: ctx.log,
      connected: () => node?.healthy ?? false,
      changed: () => ctx.recheckHealth(),
      target: () => {
        try {
          const settings = readClientSettings(nodeSettings(ctx).clientConfigFile);
          return { cluster: settings.clusterName, addresses: settings.members };
        } catch {
          // A file that cannot be read: the attempt's own error says why, in the reason.
          return null;
        }
      },
      async join() {
        // Read at each attempt, so that a corrected file or property counts at the next one.
        const own = nodeSettings(ctx);
        const next = new ClusterNode(ctx, {
          settings: readClientSettings(own.clientConfigFile),
          link: own.link,
          timing: { heartbeatMs: heartbeat.value * 1000, timeoutMs: nodeTimeout.value * 1000 },
          executionTimeoutMs: () => maxExecution.value * 1000,
          onLost: () => clustering.lost(),
          onConnection: () => ctx.recheckHealth(),
          consistency: (repair) => checks.all(repair),
        });
        attempt = next;
        try {
          await next.join();
        } finally {
          attempt = null;
        }
        node = next;
      },
      abandon: () => attempt?.abandon(),
      async leave() {
        const current = node;
        node = null;
        await current?.leave();
      },
    });

    // Clustering on but not joined: paused while the node starts (clients would find nobody
    // on the other nodes), degraded afterwards. Off: Hazelcast is no dependency at all.
    let removeCheck: (() => void) | null = null;
    const follow = (on: boolean, atStartup: boolean): void => {
      if (on && !removeCheck) {
        ctx.reportClusterState(() => clustering.summary());
        clustering.on(atStartup);
        removeCheck = ctx.healthCheck({
          name: 'Hazelcast',
          get critical() {
            return clustering.refusingLogins;
          },
          check: async () => clustering.healthy,
        });
      } else if (!on && removeCheck) {
        removeCheck();
        removeCheck = null;
        ctx.reportClusterState(null);
        void clustering.off();
      }
    };
    ctx.watch(enabled, (on) => follow(on, false));
    // Logins wait for the join only when the node starts; a plugin installed or upgraded on a
    // running node joins the way switching clustering on does.
    follow(enabled.value, ctx.loadedAtServerStart);
    ctx.onUnload(() => clustering.off());
  },
};

export default plugin;
