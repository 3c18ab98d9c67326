// The mechanisms this server offers, strongest first: clients generally pick the first one
// they support from the order the server lists.
import type { MechanismOptions, SaslContext, SaslServerMechanism } from './mechanism.ts';
import { PlainMechanism } from './plain.ts';
import { ScramMechanism } from './scram.ts';

export const MECHANISMS: readonly string[] = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];

/** A fresh mechanism for one exchange, or null if the name is not one we offer (invalid-mechanism). */
export function createMechanism(name: string, ctx: SaslContext, options?: MechanismOptions): SaslServerMechanism | null {
  switch (name) {
    case 'SCRAM-SHA-256': return new ScramMechanism('sha256', ctx, options);
    case 'SCRAM-SHA-1': return new ScramMechanism('sha1', ctx, options);
    case 'PLAIN': return new PlainMechanism(ctx);
    default: return null;
  }
}
