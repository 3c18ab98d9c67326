// Pages by location hash (#/plugins), so that bookmarks and the back button work and a reload
// stays on its page. Only this file reads the hash.

export interface Route {
  /** What follows the '#': '/plugins'. */
  path: string;
  /** The navigation label and the document title. */
  title: string;
  /** Draws the page into `main`; may return what stops it (timers) when another page is shown. */
  render(main: HTMLElement): (() => void) | void;
}

export class Router {
  private leave: (() => void) | void = undefined;
  private readonly onHashChange = (): void => this.show();

  /** The first route is where an unknown hash leads. */
  constructor(private readonly routes: readonly Route[], private readonly main: HTMLElement, private readonly shown: (route: Route) => void) {}

  start(): void {
    window.addEventListener('hashchange', this.onHashChange);
    this.show();
  }

  stop(): void {
    window.removeEventListener('hashchange', this.onHashChange);
    this.leave?.();
    this.leave = undefined;
  }

  private show(): void {
    const route = this.routes.find((r) => r.path === location.hash.slice(1));
    if (!route) {
      // Replaces the entry rather than adding one; the hashchange it causes shows the page.
      location.replace(`#${this.routes[0]!.path}`);
      return;
    }
    this.leave?.();
    this.main.replaceChildren();
    document.title = `${route.title} · xmppd admin`;
    this.shown(route);
    this.leave = route.render(this.main);
  }
}

/** The hash the login page leaves in place, so that logging in leads to the first page. */
export function forgetPage(): void {
  history.replaceState(null, '', `${location.pathname}${location.search}`);
}
