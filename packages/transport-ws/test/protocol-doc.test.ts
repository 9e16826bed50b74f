// Holds the hex examples of docs/protocol.md §3 to the wire: each ```hex block
// must decode (msgpackr, useRecords: false) to its `frame` value line, encode
// back to the same bytes, and pass the transport's own decoder.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { decodeFrame, encodeFrame } from '@tessera/transport-ws';

const DOC = new URL('../../../docs/protocol.md', import.meta.url);
const packr = new Packr({ useRecords: false });

type WireRoute = [number, string][];
type FrameValue = [number, WireRoute, WireRoute, string];

interface HexExample {
  /** The block's first line, as written. */
  readonly title: string;
  /** What the block says the bytes are, the payload as the text of its bytes. */
  readonly value: FrameValue;
  readonly bytes: Buffer;
}

/**
 * Reads one ```hex block: a `frame <JSON>` line, then lines of hex bytes, each
 * optionally followed by two or more spaces and a note; a line that starts
 * with a space is a note only. Throws saying what is malformed.
 */
function parseHexBlock(block: string): HexExample {
  const [first = '', ...rest] = block.split('\n');
  const title = first.trim();
  if (!title.startsWith('frame [')) throw new Error(`a hex block must start with "frame [...]", not "${title}"`);
  const value = JSON.parse(title.slice('frame '.length)) as FrameValue;
  const hex: string[] = [];
  for (const line of rest) {
    if (line.trim() === '' || /^\s/.test(line)) continue;
    for (const token of line.split(/\s{2,}/)[0]!.split(' ')) {
      if (!/^[0-9a-f]{2}$/.test(token)) throw new Error(`in ${title}: "${token}" is not a byte in "${line}"`);
      hex.push(token);
    }
  }
  return { title, value, bytes: Buffer.from(hex.join(''), 'hex') };
}

const blocks = [...readFileSync(DOC, 'utf8').matchAll(/^```hex\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const examples: HexExample[] = [];
const malformed: string[] = [];
for (const block of blocks) {
  try {
    examples.push(parseHexBlock(block));
  } catch (err) {
    malformed.push((err as Error).message);
  }
}

describe('docs/protocol.md: frames in hex', () => {
  it('shows the frames it promises (echo, reply, heartbeat, a hop, a lease request), each well-formed', () => {
    expect(malformed).to.deep.equal([]);
    expect(examples.length).to.be.at.least(5);
  });

  for (const { title, value, bytes } of examples) {
    describe(title, () => {
      const [version, onward, back, text] = value;

      it('decodes with msgpackr (useRecords: false) to the value shown, the payload as bin', () => {
        const decoded = packr.unpack(bytes) as unknown[];
        expect(decoded).to.have.length(4);
        expect(decoded.slice(0, 3)).to.deep.equal([version, onward, back]);
        expect(Buffer.isBuffer(decoded[3]), 'payload is MessagePack bin').to.equal(true);
        expect((decoded[3] as Buffer).toString('utf8')).to.equal(text);
      });

      it('is exactly what msgpackr and the transport encode for that value', () => {
        const payload = Buffer.from(text, 'utf8');
        expect(packr.pack([version, onward, back, payload]).toString('hex')).to.equal(bytes.toString('hex'));
        const toRoute = (r: WireRoute) => r.map(([type, v]) => ({ type, value: v }));
        expect(encodeFrame(toRoute(onward), toRoute(back), payload).toString('hex')).to.equal(bytes.toString('hex'));
      });

      it('is accepted by the transport as a frame', () => {
        const frame = decodeFrame(bytes);
        expect(frame.onward.map((a) => [a.type, a.value])).to.deep.equal(onward);
        expect(frame.return.map((a) => [a.type, a.value])).to.deep.equal(back);
      });
    });
  }
});
