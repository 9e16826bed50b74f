/** A token of a Noise message pattern (no PSK). */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

/** A handshake pattern: pre-messages, then messages alternating from the initiator. */
export interface HandshakePattern {
  readonly name: string;
  /** Keys the responder knows in advance of the initiator, and the initiator of the responder. */
  readonly initiatorPreMessage: readonly ('e' | 's')[];
  readonly responderPreMessage: readonly ('e' | 's')[];
  /** Message i is sent by the initiator when i is even. */
  readonly messages: readonly (readonly Token[])[];
  /** A one-way pattern: after the handshake only the initiator sends. */
  readonly oneWay: boolean;
}

// The fundamental and deferred patterns of the Noise spec (rev. 34 §7.4, §7.5, §18),
// written as in the spec: pre-messages, `...`, then one message per entry.
const TABLE: Record<string, string> = {
  N: '<- s ... -> e, es',
  K: '-> s <- s ... -> e, es, ss',
  X: '<- s ... -> e, es, s, ss',
  NN: '-> e <- e, ee',
  NK: '<- s ... -> e, es <- e, ee',
  NX: '-> e <- e, ee, s, es',
  KN: '-> s ... -> e <- e, ee, se',
  KK: '-> s <- s ... -> e, es, ss <- e, ee, se',
  KX: '-> s ... -> e <- e, ee, se, s, es',
  XN: '-> e <- e, ee -> s, se',
  XK: '<- s ... -> e, es <- e, ee -> s, se',
  XX: '-> e <- e, ee, s, es -> s, se',
  IN: '-> e, s <- e, ee, se',
  IK: '<- s ... -> e, es, s, ss <- e, ee, se',
  IX: '-> e, s <- e, ee, se, s, es',
  NK1: '<- s ... -> e <- e, ee, es',
  NX1: '-> e <- e, ee, s -> es',
  X1N: '-> e <- e, ee -> s <- se',
  X1K: '<- s ... -> e, es <- e, ee -> s <- se',
  XK1: '<- s ... -> e <- e, ee, es -> s, se',
  X1K1: '<- s ... -> e <- e, ee, es -> s <- se',
  X1X: '-> e <- e, ee, s, es -> s <- se',
  XX1: '-> e <- e, ee, s -> es, s, se',
  X1X1: '-> e <- e, ee, s -> es, s <- se',
  K1N: '-> s ... -> e <- e, ee -> se',
  K1K: '-> s <- s ... -> e, es <- e, ee -> se',
  KK1: '-> s <- s ... -> e <- e, ee, se, es',
  K1K1: '-> s <- s ... -> e <- e, ee, es -> se',
  K1X: '-> s ... -> e <- e, ee, s, es -> se',
  KX1: '-> s ... -> e <- e, ee, se, s -> es',
  K1X1: '-> s ... -> e <- e, ee, s -> se, es',
  I1N: '-> e, s <- e, ee -> se',
  I1K: '<- s ... -> e, es, s <- e, ee -> se',
  IK1: '<- s ... -> e, s <- e, ee, se, es',
  I1K1: '<- s ... -> e, s <- e, ee, es -> se',
  I1X: '-> e, s <- e, ee, s, es -> se',
  IX1: '-> e, s <- e, ee, se, s -> es',
  I1X1: '-> e, s <- e, ee, s -> se, es',
};

/** Names of the patterns `handshakePattern` knows. */
export const PATTERN_NAMES: readonly string[] = Object.keys(TABLE);

const cache = new Map<string, HandshakePattern>();

/** The handshake pattern called `name` (e.g. `XX`), or undefined. */
export function handshakePattern(name: string): HandshakePattern | undefined {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const text = Object.hasOwn(TABLE, name) ? TABLE[name] : undefined;
  if (text === undefined) return undefined;
  const pattern = parse(name, text);
  cache.set(name, pattern);
  return pattern;
}

function parse(name: string, text: string): HandshakePattern {
  const [pre, main] = text.includes('...') ? (text.split('...') as [string, string]) : ['', text];
  const lines = (part: string) =>
    part
      .split(/(?=->|<-)/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .map((l) => ({ from: l.slice(0, 2), tokens: l.slice(2).split(',').map((t) => t.trim()) }));
  const preLines = lines(pre);
  const initiatorPreMessage = (preLines.find((l) => l.from === '->')?.tokens ?? []) as ('e' | 's')[];
  const responderPreMessage = (preLines.find((l) => l.from === '<-')?.tokens ?? []) as ('e' | 's')[];
  const messages = lines(main).map((l) => l.tokens as Token[]);
  return Object.freeze({ name, initiatorPreMessage, responderPreMessage, messages, oneWay: name.length === 1 });
}
