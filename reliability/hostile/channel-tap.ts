// A hop in the client's own node that a secure channel to the hub runs through: it passes
// everything on (docs/protocol.md §2 rule 2) and keeps the latest ciphertexts our end sent
// to the hub's channel end, so it can send the hub corrupted copies of them (bit flips,
// truncations, tails added) and exact replays, on the same route. Every one of those
// must be dropped and counted by the hub (§5), and the channel must carry on.
import { local, type Address, type Message, NO_LOCAL_INFO, type Node, type Route } from '@tessera/core';
import type { Prng } from './prng.js';

/** Genuine ciphertexts kept to corrupt or replay. */
const KEPT = 256;

export type Corruption = 'bit-flip' | 'truncation' | 'extension' | 'replay';

interface Captured {
  onward: Route;
  back: Route;
  payload: Uint8Array;
}

export class ChannelTap {
  readonly address: Address;
  private readonly captured: Captured[] = [];
  private next = 0;
  private readonly unregister: () => void;

  constructor(private readonly node: Node, name: string) {
    this.address = local(name);
    this.unregister = node.registerSink(name, (msg) => this.pass(msg));
  }

  /** Genuine ciphertexts seen so far (at most KEPT are kept). */
  get seen(): number {
    return this.next;
  }

  private pass(msg: Message): boolean {
    const onward = msg.onward.slice(1);
    const back = [this.address, ...msg.return];
    // from our node to the hub's channel end (its address is the last hop): a genuine ciphertext
    const last = onward[onward.length - 1];
    if (msg.local.connection === undefined && last?.value.startsWith('sc.') === true) {
      this.captured[this.next++ % KEPT] = { onward, back, payload: msg.payload };
    }
    this.node.route({ onward, return: back, payload: msg.payload, local: msg.local });
    return true;
  }

  /** Sends the hub one corrupted copy (or replay) of a genuine ciphertext; the kind sent. */
  inject(rng: Prng): Corruption {
    const count = Math.min(this.next, KEPT);
    if (count === 0) throw new Error('no ciphertext has gone through the tap yet');
    const genuine = this.captured[rng.int(0, count - 1)]!;
    const kind = rng.pick<Corruption>(['bit-flip', 'truncation', 'extension', 'replay']);
    let payload: Uint8Array;
    switch (kind) {
      case 'bit-flip': {
        const copy = Buffer.from(genuine.payload);
        for (let flips = rng.int(1, 3); flips > 0; flips--) {
          const bit = rng.int(0, copy.length * 8 - 1);
          copy[bit >> 3]! ^= 1 << (bit & 7);
        }
        payload = copy;
        break;
      }
      case 'truncation':
        payload = genuine.payload.subarray(0, rng.int(0, genuine.payload.length - 1));
        break;
      case 'extension':
        payload = Buffer.concat([genuine.payload, rng.bytes(rng.int(1, 64))]);
        break;
      case 'replay':
        payload = genuine.payload;
        break;
    }
    this.node.route({ onward: genuine.onward, return: genuine.back, payload, local: NO_LOCAL_INFO });
    return kind;
  }

  close(): void {
    this.unregister();
  }
}
