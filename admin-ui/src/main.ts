// The console's entry point. It asks the API whether this browser has a session (a reload
// gets the CSRF token back that way, since it is kept in memory only), then shows either the
// login form or the logged-in frame with the page the location hash names.
import { ApiError, currentSession, describe, logOut, onSessionLost } from './api.ts';
import type { Session } from './api-types.ts';
import { message } from './dom.ts';
import { drawShell } from './layout.ts';
import { clusteringPage } from './pages/clustering.ts';
import { dashboardPage } from './pages/dashboard.ts';
import { logPage } from './pages/log.ts';
import { drawLogin } from './pages/login.ts';
import { pluginPagesPage } from './pages/plugin-pages.ts';
import { pluginsPage } from './pages/plugins.ts';
import { propertiesPage } from './pages/properties.ts';
import { roomsPage } from './pages/rooms.ts';
import { serverPage } from './pages/server.ts';
import { sessionsPage } from './pages/sessions.ts';
import { usersPage } from './pages/users.ts';
import { forgetPage, Router } from './router.ts';

/** In the navigation's order; the first is where logging in leads. */
const ROUTES = [dashboardPage, usersPage, sessionsPage, roomsPage, pluginsPage, propertiesPage, clusteringPage, serverPage, logPage, pluginPagesPage];

const root = document.getElementById('app')!;
let router: Router | null = null;

function showLogin(notice: string | null): void {
  router?.stop();
  router = null;
  drawLogin(root, notice, loggedIn);
}

function loggedIn(session: Session): void {
  const shell = drawShell(root, ROUTES, session.jid, () => {
    logOut().catch(() => {
      // Already over on the server (expired, node restarted): logged out all the same.
    }).finally(() => {
      forgetPage();
      showLogin('You are logged out.');
    });
  });
  router = new Router(ROUTES, shell.main, (route) => shell.markCurrent(route));
  router.start();
}

onSessionLost((err) => {
  if (!router) return;
  showLogin(err.code === 'NOT_ADMIN'
    ? 'This account is no longer an administrator (admin.jids changed); you were logged out.'
    : 'Your session has ended (unused for too long, or the node restarted). Log in again.');
});

currentSession().then(loggedIn, (err: unknown) => {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) showLogin(null);
  else root.replaceChildren(message('error', `The admin API does not answer as expected: ${describe(err)}`));
});
