/** This process's identity among the replicas sharing a store. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A new replica id: the host name and pid say where it runs (for an operator reading the logs), the random part
 * keeps a restarted process with the same pid (a container's pid 1) from being taken for the one it replaced.
 */
export function newReplicaId(host = hostname(), pid = process.pid): string {
  return `${host}-${pid}-${randomBytes(4).toString('hex')}`;
}
