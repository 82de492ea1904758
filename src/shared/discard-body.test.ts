import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discardBody } from './discard-body.js';

/** Answers whether discardBody(limit 1,000) read the request's body to its end. */
const server = createServer((incoming, outgoing) => {
  void discardBody(incoming, 1_000).then((ended) => outgoing.end(String(ended)));
});
beforeAll(() => new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening)));
afterAll(
  () =>
    new Promise<void>((closed) => {
      server.close(() => closed());
      server.closeAllConnections();
    }),
);

/** A POST of `size` bytes, chunked unless `declared`; the answer, or 'closed' if none came. */
function post(size: number, declared: boolean): Promise<string> {
  return new Promise((resolve) => {
    const { port } = server.address() as AddressInfo;
    const sending = request(
      { port, host: '127.0.0.1', method: 'POST', headers: declared ? { 'content-length': size } : {} },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(text));
      },
    );
    sending.on('error', () => resolve('closed'));
    if (declared && size > 1_000) sending.flushHeaders();
    else sending.end(Buffer.alloc(size, 0x61));
  });
}

describe('discardBody', () => {
  it('reads a body within the limit to its end, declared or chunked', async () => {
    expect(await post(0, true)).toBe('true');
    expect(await post(1_000, true)).toBe('true');
    expect(await post(999, false)).toBe('true');
  });

  it('gives up on a longer body: at once when declared, at the limit when chunked', async () => {
    // Declared: answered before a byte of the body is sent (the request is never ended here).
    expect(await post(1_001, true)).toBe('false');
    expect(await post(5_000, false)).toBe('false');
  });
});
