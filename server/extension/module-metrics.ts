// Figures a module or plugin publishes on /metrics (ctx.metric): a counter or gauge read when
// Prometheus scrapes, like the kernel's own, so that publishing costs nothing between scrapes.
// The registry is the node's; /metrics follows it as modules and plugins come and go, and a
// context's unload takes its metrics away with the rest of its registrations.

export interface ModuleMetricDefinition {
  /** `xmppd_` and lower-case words: the name Prometheus shows. */
  name: string;
  help: string;
  /** A counter only grows (a `_total` name); a gauge goes up and down. */
  type: 'counter' | 'gauge';
  /** The current value, read at each scrape. */
  read(): number;
}

export interface ModuleMetricsListener {
  added(metric: ModuleMetricDefinition): void;
  removed(name: string): void;
}

const NAME = /^xmppd_[a-z][a-z0-9_]*$/;

export class ModuleMetrics {
  private readonly metrics = new Map<string, ModuleMetricDefinition>();
  private readonly listeners = new Set<ModuleMetricsListener>();

  /** Publishes a metric; returns what takes it away. Throws for a bad or taken name. */
  add(metric: ModuleMetricDefinition): () => void {
    if (!NAME.test(metric.name)) throw new Error(`metric name ${metric.name} must be xmppd_ and lower-case words`);
    if (metric.type === 'counter' && !metric.name.endsWith('_total')) throw new Error(`counter ${metric.name} must end in _total`);
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} is published already`);
    this.metrics.set(metric.name, metric);
    try {
      for (const l of this.listeners) l.added(metric);
    } catch (err) {
      // A name /metrics has already (one of the kernel's own): refused, and forgotten.
      this.metrics.delete(metric.name);
      for (const l of this.listeners) l.removed(metric.name);
      throw err;
    }
    return () => {
      if (this.metrics.get(metric.name) !== metric) return;
      this.metrics.delete(metric.name);
      for (const l of this.listeners) l.removed(metric.name);
    };
  }

  /** How many metrics are published (for tests: an unloaded module leaves none). */
  get size(): number {
    return this.metrics.size;
  }

  /** Calls `listener` for every metric published now and from now on; returns what stops it. */
  follow(listener: ModuleMetricsListener): () => void {
    for (const m of this.metrics.values()) listener.added(m);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
