import { connect } from 'node:net';

export interface RawExchange {
  /** The status of each answer, in order. */
  readonly statuses: number[];
  /** Everything the server sent. */
  readonly text: string;
  /** The first error writing or reading the socket, if any. */
  readonly writeError?: Error;
  /** Whether the server closed the connection (rather than the exchange ending with all answers in). */
  readonly closed: boolean;
}

export interface RawExchangeOptions {
  readonly path: string;
  /** The declared Content-Length of the POST. */
  readonly length: number;
  readonly contentType?: string;
  /** false: send the headers only. */
  readonly sendBody?: boolean;
  /** A GET sent on the same connection once the body is written. */
  readonly then?: string;
}

/**
 * Over one raw connection, as a client that writes its whole body before it reads: a POST of
 * `length` bytes (written in 64 KiB pieces, each waited for), then optionally a GET; what came back,
 * once every answer is in or the server closed.
 */
export function rawExchange(port: number, options: RawExchangeOptions): Promise<RawExchange> {
  const expected = options.then === undefined ? 1 : 2;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let writeError: Error | undefined;
    const statuses = () => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ statuses: statuses(), text, closed, ...(writeError === undefined ? {} : { writeError }) });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (expected === 2 && statuses().length === 2) finish(false);
    });
    socket.on('error', (error) => (writeError ??= error));
    socket.on('close', () => finish(true));
    const write = (data: string | Buffer) =>
      new Promise<void>((written, failed) => socket.write(data, (error) => (error ? failed(error) : written())));
    void (async () => {
      await write(
        `POST ${options.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${options.contentType ?? 'application/json'}\r\nContent-Length: ${options.length}\r\n\r\n`,
      );
      if (options.sendBody === false) return;
      const piece = Buffer.alloc(65_536, 0x20);
      for (let sent = 0; sent < options.length; sent += piece.length)
        await write(piece.subarray(0, Math.min(piece.length, options.length - sent)));
      if (options.then !== undefined) await write(`GET ${options.then} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    })().catch((error: unknown) => (writeError ??= error as Error));
  });
}
