// WebSocket peers made by hand over a TCP socket (RFC 6455), for peers the `ws` client
// will not play: one that stops half-way through its upgrade, one that never reads what
// it is sent, one that never answers a ping.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** How long a raw peer waits for its connection or its upgrade's answer. */
const WAIT_MS = 30_000;

/** The upgrade request for `tessera.v1` on 127.0.0.1:`port`, whole. */
export function upgradeRequest(port: number): string {
  return [
    'GET / HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Protocol: tessera.v1',
    '',
    '',
  ].join('\r\n');
}

/** A TCP connection to 127.0.0.1:`port`, once connected; its `closed` settles with the time (performance.now()) it closed. */
export function rawConnect(port: number): Promise<{ socket: Socket; connectedAt: number; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now())));
    socket.on('error', () => undefined); // a reset shows as the close
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP connection to 127.0.0.1:${port} within ${WAIT_MS} ms`));
    }, WAIT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, connectedAt: performance.now(), closed });
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`the TCP connection to 127.0.0.1:${port} closed before it opened`));
    });
  });
}

/** A WebSocket upgraded by hand: resolves once the 101 answer has come (the bytes after it are dropped). */
export async function rawUpgrade(port: number): Promise<{ socket: Socket; upgradedAt: number; closed: Promise<number> }> {
  const { socket, closed } = await rawConnect(port);
  socket.write(upgradeRequest(port));
  const upgradedAt = await new Promise<number>((resolve, reject) => {
    let head = '';
    const timer = setTimeout(() => done(new Error(`no upgrade answer from 127.0.0.1:${port} within ${WAIT_MS} ms`)), WAIT_MS);
    const done = (outcome: number | Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (typeof outcome === 'number') resolve(outcome);
      else {
        socket.destroy();
        reject(outcome);
      }
    };
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (head.startsWith('HTTP/1.1 101')) done(performance.now());
      else done(new Error(`the upgrade was refused: ${head.slice(0, head.indexOf('\r\n'))}`));
    };
    const onClose = (): void => done(new Error('the connection closed during the upgrade'));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  return { socket, upgradedAt, closed };
}

/** A client-to-server WebSocket frame (masked, final) of `opcode` (2 binary, 9 ping) carrying `payload`. */
export function maskedFrame(payload: Buffer, opcode = 2): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n]) : n < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (n >= 126 && n < 65_536) {
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(n, 2);
  } else if (n >= 65_536) {
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, body]);
}
