// The built-in modules, loaded in this order at start. Each is one file or folder under
// modules/ and registers everything through its ModuleContext.
import type { XmppModule } from './module-context.ts';

export const BUILTIN_MODULES: XmppModule[] = [];
