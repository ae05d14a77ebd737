/**
 * A tiny local HTTP server for the clients' unit tests: answers from a handler, records every request, and can
 * stand for a service that is down (a port nobody listens on) or slow (never answers).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type StubHandler = (req: RecordedRequest, res: ServerResponse) => void;

export interface HttpStub {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a stub on a free loopback port. */
export async function startHttpStub(handler: StubHandler): Promise<HttpStub> {
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(r);
      open.add(res);
      res.on('close', () => open.delete(res));
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback URL where nothing listens (a port that was free a moment ago). */
export async function deadUrl(): Promise<string> {
  const stub = await startHttpStub(() => undefined);
  await stub.close();
  return stub.url;
}

/** Answers with JSON. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
