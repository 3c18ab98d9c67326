// The built-in modules, loaded in this order at start. Each is one file or folder under
// modules/ and registers everything through its ModuleContext.
import type { XmppModule } from '../extension/module-context.ts';
import { blockingModule } from './blocking/blocking.ts';
import { carbonsModule } from './carbons/index.ts';
import { discoModule } from './disco.ts';
import { lastModule } from './last.ts';
import { mamModule } from './mam/index.ts';
import { mucModule } from './muc/index.ts';
import { offlineModule } from './offline.ts';
import { avatarConversionModule } from './pep/avatar-conversion.ts';
import { bookmarksConversionModule } from './pep/bookmarks-conversion.ts';
import { pepModule } from './pep/index.ts';
import { pingModule } from './ping.ts';
import { presenceModule } from './presence/index.ts';
import { privateModule } from './private.ts';
import { proxy65Module } from './proxy65/index.ts';
import { registerModule } from './register/register.ts';
import { rosterModule } from './roster/index.ts';
import { timeModule } from './time.ts';
import { vcardModule } from './vcard.ts';
import { versionModule } from './version.ts';

export const BUILTIN_MODULES: XmppModule[] = [
  discoModule,
  pingModule,
  versionModule,
  timeModule,
  offlineModule,
  vcardModule,
  privateModule,
  blockingModule,
  lastModule,
  registerModule,
  rosterModule,
  presenceModule,
  pepModule,
  avatarConversionModule,
  bookmarksConversionModule,
  mamModule,
  proxy65Module,
  mucModule,
  carbonsModule,
];
