// HTTP routes and admin console pages that plugins add while they are loaded. A fastify
// app cannot gain or lose routes once it listens, so each listener mounts one catch-all
// under /plugins/<name>/ that looks routes up here; a plugin's routes come and go with it.
import type { FastifyReply, FastifyRequest } from 'fastify';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface PluginRouteRequest {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Values of the `:name` segments of the route's path. */
  params: Record<string, string>;
}

/**
 * Returns the response body (an object is sent as JSON), or sends through `reply` itself.
 * Thrown errors become 500 responses and are logged; use reply.code() for other statuses.
 */
export type PluginRouteHandler = (req: PluginRouteRequest) => unknown;

export interface PluginRoute {
  method: HttpMethod;
  /** Path below /plugins/<plugin-name>, starting with "/"; `:name` segments match one segment. */
  path: string;
  handler: PluginRouteHandler;
}

export interface AdminPage {
  plugin: string;
  id: string;
  title: string;
  /** Where the console finds the page: one of the plugin's admin routes (GET). */
  url: string;
}

interface Registered {
  route: PluginRoute;
  segments: string[];
}

const PATH = /^\/([A-Za-z0-9._~:-]+(\/[A-Za-z0-9._~:-]+)*)?$/;

function segmentsOf(path: string): string[] {
  return path.split('/').filter(Boolean);
}

export class PluginRouteTable {
  private readonly routes = new Map<string, Registered[]>();

  /** Routes registered, over every plugin. */
  get size(): number {
    let n = 0;
    for (const list of this.routes.values()) n += list.length;
    return n;
  }

  /** Adds a route for a plugin; returns the function that removes it. */
  add(plugin: string, route: PluginRoute): () => void {
    if (!PATH.test(route.path)) throw new Error(`route path ${JSON.stringify(route.path)} must start with "/" and use URL-safe segments`);
    const list = this.routes.get(plugin) ?? [];
    const entry: Registered = { route, segments: segmentsOf(route.path) };
    const same = list.find((r) => r.route.method === route.method && r.segments.join('/') === entry.segments.join('/'));
    if (same) throw new Error(`route ${route.method} ${route.path} is already registered`);
    this.routes.set(plugin, [...list, entry]);
    return () => {
      const rest = (this.routes.get(plugin) ?? []).filter((r) => r !== entry);
      if (rest.length) this.routes.set(plugin, rest);
      else this.routes.delete(plugin);
    };
  }

  /** The route of `plugin` matching method and path (below /plugins/<plugin>), or null. */
  match(plugin: string, method: string, path: string): { route: PluginRoute; params: Record<string, string> } | null {
    const wanted = segmentsOf(path);
    for (const { route, segments } of this.routes.get(plugin) ?? []) {
      if (route.method !== method || segments.length !== wanted.length) continue;
      const params: Record<string, string> = {};
      const ok = segments.every((s, i) => {
        if (s.startsWith(':')) {
          params[s.slice(1)] = decodeURIComponent(wanted[i]!);
          return true;
        }
        return s === wanted[i];
      });
      if (ok) return { route, params };
    }
    return null;
  }
}

export class AdminPageRegistry {
  private readonly pages: AdminPage[] = [];

  add(page: AdminPage): () => void {
    if (this.pages.some((p) => p.plugin === page.plugin && p.id === page.id)) throw new Error(`admin page ${page.id} is already registered`);
    this.pages.push(page);
    return () => {
      const i = this.pages.indexOf(page);
      if (i !== -1) this.pages.splice(i, 1);
    };
  }

  list(): AdminPage[] {
    return [...this.pages];
  }
}
