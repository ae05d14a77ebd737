/**
 * Slack retries an event it did not see acknowledged in time, with the same event id: each id is handled once. A
 * claim is the one question the message listener asks; where claims live is the implementation's business: in the
 * bot's SQLite file by default, or in a store every replica shares (a replica then never handles an event another
 * one claimed).
 */
import Database from 'better-sqlite3';
import { PilotError } from '../errors';

export interface EventClaims {
  /** Claims `eventId`; false when it was claimed before (a retry, or another replica took it). */
  claim(eventId: string, at: Date): Promise<boolean>;
  close(): void | Promise<void>;
}

/** Slack retries within minutes; a day of ids is plenty. */
const KEEP_MS = 86_400_000;

/** Claims in a SQLite file (the store's file by default: its `seen_events` table), for one bot process. */
export class SqliteEventClaims implements EventClaims {
  private readonly db: Database.Database;
  private inserted = 0;

  constructor(path: string) {
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec('CREATE TABLE IF NOT EXISTS seen_events (event_id TEXT PRIMARY KEY, at TEXT NOT NULL)');
    } catch (err) {
      throw new PilotError('STORE_UNAVAILABLE', `cannot open the event claims at ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async claim(eventId: string, at: Date): Promise<boolean> {
    const info = this.db
      .prepare('INSERT OR IGNORE INTO seen_events (event_id, at) VALUES (?, ?)')
      .run(eventId, at.toISOString());
    // Keep the table small: now and then, ids older than a day go.
    if (info.changes > 0 && ++this.inserted % 500 === 0) {
      this.db.prepare('DELETE FROM seen_events WHERE at < ?').run(new Date(at.getTime() - KEEP_MS).toISOString());
    }
    return info.changes > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Claims in memory, bounded to a day of ids: for tests and a bot without a store file. */
export class MemoryEventClaims implements EventClaims {
  private readonly seen = new Map<string, number>();

  async claim(eventId: string, at: Date): Promise<boolean> {
    const now = at.getTime();
    if (this.seen.has(eventId)) return false;
    this.seen.set(eventId, now);
    // Insertion order is time order: drop the oldest while they are older than a day.
    for (const [id, t] of this.seen) {
      if (t >= now - KEEP_MS) break;
      this.seen.delete(id);
    }
    return true;
  }

  close(): void {
    this.seen.clear();
  }
}
