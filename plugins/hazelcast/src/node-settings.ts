// What differs from node to node: the address of this node's cluster link and the Hazelcast
// client configuration file. They come from the node's own configuration file (the `cluster`
// section of conf/xmppd.yml, or XMPPD_CLUSTER_*), as Openfire keeps them in each node's
// hazelcast-local-config. System properties are shared by every node, so the old properties
// hazelcast.link.host and hazelcast.link.port would give every node the same address: they
// are still read when the file leaves the setting out (and set to something other than
// their default), with a warning that says what to write instead.
import { isAbsolute, join } from 'node:path';
import { INSTALL_ROOT, type PluginContext } from 'xmppd';

export interface NodeSettings {
  link: { host: string; port: number };
  /** Absolute path of the Hazelcast client configuration. */
  clientConfigFile: string;
}

export function nodeSettings(ctx: PluginContext): NodeSettings {
  const own = ctx.nodeCluster;
  const legacy = <T extends string | number>(name: string, key: string, env: string, fromFile: T | null): T => {
    const prop = ctx.property<T>(name);
    if (fromFile !== null) return fromFile;
    if (prop.value !== prop.definition.default) {
      ctx.log.warn(`the system property ${name} is deprecated: it is shared by every node; set ${key} in this node's configuration file (or ${env}) instead`, { value: prop.value });
    }
    return prop.value;
  };
  const dir = ctx.property<string>('hazelcast.config.xml.directory').value;
  const file = ctx.property<string>('hazelcast.config.xml.filename').value;
  return {
    link: {
      host: legacy('hazelcast.link.host', 'cluster.link.host', 'XMPPD_CLUSTER_LINK_HOST', own.linkHost),
      port: legacy('hazelcast.link.port', 'cluster.link.port', 'XMPPD_CLUSTER_LINK_PORT', own.linkPort),
    },
    // The file named for this node wins; otherwise the properties name one for every node.
    clientConfigFile: own.configFile ?? join(isAbsolute(dir) ? dir : join(INSTALL_ROOT, dir), file),
  };
}
