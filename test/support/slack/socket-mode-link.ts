/**
 * Slack's Socket Mode side for the stand-in: the WebSocket URL that apps.connections.open hands out, the `hello` sent
 * on connect, envelopes sent to the app and the acks it sends back. Message shapes follow Slack's "Using Socket Mode"
 * page (https://docs.slack.dev/apis/events-api/using-socket-mode): hello with connection_info / num_connections /
 * debug_info, envelopes `{ envelope_id, type, payload, accepts_response_payload }` (events_api also carries
 * retry_attempt / retry_reason, as Slack's SDKs read them), acks `{ envelope_id, payload? }`, and
 * `{ type: 'disconnect', reason }` before Slack closes a connection.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

/** The envelope types Slack sends over Socket Mode. */
export type SocketEnvelopeType = 'events_api' | 'interactive' | 'slash_commands';

/** Why Slack asks an app to reconnect (the `reason` of a `disconnect` message). */
export type DisconnectReason = 'warning' | 'refresh_requested' | 'link_disabled';

/** What the app answered to one envelope. */
export interface SocketAck {
  envelopeId: string;
  /** The ack's `payload` (a slash command's or view submission's response), undefined when it sent none or `{}`. */
  payload?: Record<string, unknown>;
  /** Milliseconds from sending the envelope to receiving its ack: Slack's 3-second clock. */
  ackMs: number;
}

/** The `hello` Slack sends once a connection is open. */
export function buildHello(appId: string, numConnections: number) {
  return {
    type: 'hello' as const,
    num_connections: numConnections,
    debug_info: { host: 'applink-standin', build_number: 1, approximate_connection_time: 18060 },
    connection_info: { app_id: appId },
  };
}

/** A Socket Mode envelope around an Events API, interactivity or slash command payload. */
export function buildSocketEnvelope(
  type: SocketEnvelopeType,
  payload: unknown,
  opts: { envelopeId: string; retryAttempt?: number; retryReason?: string },
) {
  return {
    envelope_id: opts.envelopeId,
    payload,
    type,
    // Slack lets an app answer interactivity and commands in the ack; events take no response.
    accepts_response_payload: type !== 'events_api',
    ...(type === 'events_api' ? { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryReason ?? '' } : {}),
  };
}

/** The WebSocket end of Socket Mode, served on the stand-in's own HTTP server under `/link/`. */
export class SocketModeLink {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly open: WebSocket[] = [];
  private readonly pending = new Map<string, { sentAt: number; resolve: (ack: SocketAck) => void }>();
  private baseWsUrl = '';

  constructor(private readonly opts: { appId: string; ackTimeoutMs?: number }) {}

  /** Takes over `upgrade` requests of the server; only `/link/?ticket=…` with a ticket not used yet is accepted. */
  attach(server: Server, baseUrl: string): void {
    this.baseWsUrl = baseUrl.replace(/^http/, 'ws');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', baseUrl);
      const ticket = url.searchParams.get('ticket') ?? '';
      if (!/^\/link\/?$/.test(url.pathname) || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  /** A fresh single-use WebSocket URL, as apps.connections.open returns it. */
  issueUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `${this.baseWsUrl}/link/?ticket=${ticket}&app_id=${this.opts.appId}`;
  }

  /** How many app connections are open now. */
  connections(): number {
    return this.open.length;
  }

  /** Sends an envelope on the newest connection; resolves with the app's ack, rejects when none comes in time. */
  send(
    type: SocketEnvelopeType,
    payload: unknown,
    opts: { retryAttempt?: number; retryReason?: string } = {},
  ): Promise<SocketAck> {
    const ws = this.open[this.open.length - 1];
    if (!ws)
      return Promise.reject(
        new Error('SlackStandIn: no Socket Mode connection is open (did the bot start in Socket Mode?)'),
      );
    const envelopeId = randomUUID();
    const timeoutMs = this.opts.ackTimeoutMs ?? 10_000;
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        reject(new Error(`SlackStandIn: the app did not ack ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(envelopeId, {
        sentAt: performance.now(),
        resolve: (ack) => {
          clearTimeout(timer);
          resolve(ack);
        },
      });
      ws.send(JSON.stringify(buildSocketEnvelope(type, payload, { envelopeId, ...opts })));
    });
  }

  /** Sends Slack's `disconnect` message on every connection; Slack closes them itself shortly after. */
  requestDisconnect(reason: DisconnectReason): void {
    for (const ws of this.open)
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-standin' } }));
  }

  /** Ends every connection and forgets tickets and pending envelopes. */
  close(): void {
    for (const ws of this.open) ws.terminate();
    this.open.length = 0;
    this.tickets.clear();
    this.pending.clear();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    this.open.push(ws);
    ws.on('close', () => {
      const i = this.open.indexOf(ws);
      if (i >= 0) this.open.splice(i, 1);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return; // Slack ignores what it cannot parse; the envelope then times out.
      }
      const waiting = typeof message.envelope_id === 'string' ? this.pending.get(message.envelope_id) : undefined;
      if (!waiting) return;
      this.pending.delete(message.envelope_id as string);
      const payload =
        message.payload && typeof message.payload === 'object' && Object.keys(message.payload).length > 0
          ? (message.payload as Record<string, unknown>)
          : undefined;
      waiting.resolve({
        envelopeId: message.envelope_id as string,
        payload,
        ackMs: performance.now() - waiting.sentAt,
      });
    });
    ws.send(JSON.stringify(buildHello(this.opts.appId, this.open.length)));
  }
}
