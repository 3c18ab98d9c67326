// The clustering plugin: with `clustering.enabled` on, this node joins the Hazelcast cluster
// named in the client configuration, shares its session routes through it and reaches the
// other nodes over direct links; with it off (the default), the node is standalone. The
// setting lives in the shared database, so turning it on or off from any node (admin API,
// console, `xmppd property set`) reaches every node within seconds. See docs/clustering.md.
import { isAbsolute, join } from 'node:path';
import { INSTALL_ROOT, type Plugin, type PluginContext } from 'xmppd';
import { ClientConfigError, readClientSettings } from './client-config.ts';
import { ClusterNode } from './cluster-node.ts';

const plugin: Plugin = {
  load(ctx: PluginContext) {
    const enabled = ctx.property<boolean>('clustering.enabled');
    const startupDelay = ctx.property<number>('hazelcast.startup.delay.seconds');
    const retryCount = ctx.property<number>('hazelcast.startup.retry.count');
    const retrySeconds = ctx.property<number>('hazelcast.startup.retry.seconds');
    const maxExecution = ctx.property<number>('hazelcast.max.execution.seconds');
    const configDir = ctx.property<string>('hazelcast.config.xml.directory');
    const configFile = ctx.property<string>('hazelcast.config.xml.filename');
    const linkHost = ctx.property<string>('hazelcast.link.host');
    const linkPort = ctx.property<number>('hazelcast.link.port');
    const heartbeat = ctx.property<number>('hazelcast.heartbeat.seconds');
    const nodeTimeout = ctx.property<number>('hazelcast.node.timeout.seconds');

    let node: ClusterNode | null = null;
    let unloaded = false;
    // Joins and leaves run one at a time, in the order the setting changed.
    let chain: Promise<void> = Promise.resolve();
    const run = (step: () => Promise<void>): void => {
      chain = chain.then(step).catch((err: unknown) => ctx.log.error('clustering step failed', { error: err instanceof Error ? err.stack ?? err.message : String(err) }));
    };

    const start = async (): Promise<void> => {
      if (node?.isJoined || unloaded || !enabled.value) return;
      const dir = isAbsolute(configDir.value) ? configDir.value : join(INSTALL_ROOT, configDir.value);
      let settings;
      try {
        settings = readClientSettings(join(dir, configFile.value));
      } catch (err) {
        if (!(err instanceof ClientConfigError)) throw err;
        ctx.log.error(`clustering stays off: ${err.message} (properties hazelcast.config.xml.directory and hazelcast.config.xml.filename)`);
        node = null;
        return;
      }
      node = new ClusterNode(ctx, {
        settings,
        retry: { count: retryCount.value, pauseMs: retrySeconds.value * 1000 },
        link: { host: linkHost.value, port: linkPort.value },
        timing: { heartbeatMs: heartbeat.value * 1000, timeoutMs: nodeTimeout.value * 1000 },
        executionTimeoutMs: () => maxExecution.value * 1000,
        onLost: () => {
          run(stop);
          run(start);
        },
      });
      if (!(await node.join())) {
        ctx.log.error('clustering is on but this node could not join; it serves standalone until clustering is turned off and on again', { reason: node.lastError });
      }
    };
    const stop = async (): Promise<void> => {
      const current = node;
      node = null;
      await current?.leave();
    };

    // Clustering on but not joined is a degraded node: /status says so, and why in the log.
    ctx.healthCheck({
      name: 'Hazelcast',
      critical: false,
      check: async () => !enabled.value || (node?.healthy ?? false),
    });

    ctx.watch(enabled, (on) => run(on ? start : stop));
    if (enabled.value) {
      // hazelcast.startup.delay.seconds: give the members (often started alongside) time to come up.
      const delay = setTimeout(() => run(start), startupDelay.value * 1000);
      ctx.onUnload(() => clearTimeout(delay));
      ctx.log.info('clustering is on: joining after the startup delay', { seconds: startupDelay.value });
    }
    ctx.onUnload(async () => {
      unloaded = true;
      run(stop);
      await chain;
    });
  },
};

export default plugin;
