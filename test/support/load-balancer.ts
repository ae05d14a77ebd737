/**
 * The load balancer in front of several bot replicas, as tests need it: round-robin over the backends; a backend that
 * refuses the connection (a stopped replica) is skipped for the next one, as a load balancer with health checks
 * would. When every backend refuses, it answers 503 itself; a backend that fails after taking the request (a replica
 * killed mid-request) makes it answer 502: a POST is not replayed on another backend. Slack's and Alertmanager's own
 * retries sit in front of it (see SlackStandIn's `eventRetries`, ReplicaSet.webhook).
 */
export class LoadBalancer {
  private next = 0;
  /** Requests a backend refused (the balancer went on to the next one): a stopped replica was skipped. */
  refused = 0;

  /** `backends`: base URLs (`http://127.0.0.1:PORT`) of the replicas. */
  constructor(readonly backends: readonly string[]) {
    if (backends.length === 0) throw new Error('LoadBalancer: no backends');
  }

  /**
   * Sends one request to `path` on the next backend that accepts a connection; `backend` is the one that answered
   * (undefined when none did). `startAt` picks the first backend tried instead of the round-robin position.
   */
  async fetch(path: string, init: RequestInit, startAt?: number): Promise<{ res: Response; backend?: string }> {
    const start = startAt ?? this.next++;
    for (let i = 0; i < this.backends.length; i++) {
      const backend = this.backends[(start + i) % this.backends.length];
      try {
        return { res: await fetch(`${backend}${path}`, init), backend };
      } catch (err) {
        if (connectionRefused(err)) {
          this.refused++;
          continue;
        }
        return { res: new Response('upstream failed', { status: 502 }), backend };
      }
    }
    return { res: new Response('no healthy upstream', { status: 503 }) };
  }

  /** The index of a backend URL, or -1. */
  indexOf(backend: string | undefined): number {
    return backend === undefined ? -1 : this.backends.indexOf(backend);
  }
}

/** A fetch that failed because nothing listens at the address (undici wraps the socket error as its cause). */
export function connectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}
