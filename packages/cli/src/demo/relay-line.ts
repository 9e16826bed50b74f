import { type Logger, fromUtf8, local, Node } from '@tessera/core';
import { createRelay, type Relay } from '@tessera/relay';
import type { Signer } from '@tessera/secure-channel';
import { WebSocketTransport } from '@tessera/transport-ws';
import { hubHops } from '../relay-command.js';

export interface RelayLineOptions {
  hubUrl: string;
  hubIdentifier: string;
  /** The device's identity (a member by now): the relay name is bound to it. */
  identity: Signer;
  deviceId: string;
  /** What the device's `status` worker answers. */
  status: () => string;
  show: (source: string, text: string) => void;
  logger: Logger;
}

/**
 * The demo's relay line: the device keeps a relay at the hub under its name
 * (it accepts no connection of its own), and the operator, from a node of its
 * own, reaches the device's `status` worker through it.
 */
export async function showRelayLine(options: RelayLineOptions): Promise<{ stop(): Promise<void> }> {
  const gateway = new Node({ name: `${options.deviceId}-gateway`, logger: options.logger });
  new WebSocketTransport(gateway, { forwarding: false });
  await gateway.startWorker('status', (ctx, msg) => ctx.reply(msg, options.status()));
  const hops = hubHops(options.hubUrl);
  const operator = new Node({ name: 'demo-operator-relay', logger: options.logger });
  new WebSocketTransport(operator);
  let relay: Relay | undefined;
  try {
    relay = await createRelay(gateway, hops, { identity: options.identity, name: options.deviceId, hubIdentifier: options.hubIdentifier, logger: options.logger });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the relay was not registered within 10 s')), 10_000)));
    await Promise.race([relay.registered(), late]).finally(() => clearTimeout(timer));
    options.show(options.deviceId, `keeps a relay at the hub: forward_to_${options.deviceId} (bound to its identity; it accepts no connection itself)`);
    const reply = await operator.request([...relay.route, local('status')], 'status?', { timeout: 5_000 });
    options.show('operator', `reached ${options.deviceId}'s status worker through its relay: "${fromUtf8(reply.payload)}"`);
  } catch (err) {
    options.show('operator', `could not reach ${options.deviceId} through a relay: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    async stop() {
      await relay?.close();
      await operator.stop();
      await gateway.stop();
    },
  };
}
