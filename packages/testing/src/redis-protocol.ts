import { connect } from 'node:net';

/** A RESP reply as the harness reads it: errors as strings, arrays nested. */
export type Reply = string | number | null | Reply[];

/** Sends commands on one short-lived loopback connection and returns one reply per command. */
export function command(port: number, commands: string[][], host = '127.0.0.1'): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    const replies: Reply[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no reply within 1000 ms')), 1000);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parseReply(buffer, 0);
        if (parsed === undefined) return;
        replies.push(parsed.value);
        buffer = buffer.subarray(parsed.end);
        if (replies.length === commands.length) {
          clearTimeout(timer);
          socket.end();
          resolve(replies);
          return;
        }
      }
    });
    socket.write(commands.map(encodeCommand).join(''));
  });
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** Parses one simple, error, integer, bulk or array reply starting at `start`; undefined while incomplete. */
function parseReply(buffer: Buffer, start: number): { value: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const line = buffer.subarray(start + 1, lineEnd).toString('utf8');
  switch (String.fromCharCode(buffer[start]!)) {
    case '+':
    case '-':
      return { value: line, end: lineEnd + 2 };
    case ':':
      return { value: Number(line), end: lineEnd + 2 };
    case '$': {
      const size = Number(line);
      if (size < 0) return { value: null, end: lineEnd + 2 };
      if (buffer.length < lineEnd + 2 + size + 2) return undefined;
      return { value: buffer.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'), end: lineEnd + 2 + size + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: lineEnd + 2 };
      const items: Reply[] = [];
      let end = lineEnd + 2;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, end);
        if (item === undefined) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected reply from redis-server: ${line}`);
  }
}
