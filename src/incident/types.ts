/** Incidents, their steps' state and their timeline. */
import type { Alert } from '../ingest/alert';

/** The state of one step of an incident. A discriminated union: each state carries what it needs to be shown. */
export type StepState =
  | { state: 'idle' }
  | { state: 'queued'; actionId: string; by: string; at: string; ahead: number }
  | { state: 'running'; actionId: string; by: string; at: string }
  | {
      state: 'ok';
      actionId: string;
      by: string;
      at: string;
      exitCode: number;
      durationMs: number;
      verdict?: StepVerdict;
    }
  | {
      state: 'failed';
      actionId: string;
      by: string;
      at: string;
      exitCode?: number | null;
      durationMs?: number;
      error: string;
      verdict?: StepVerdict;
    }
  | { state: 'done'; by: string; at: string };

/** What a step's output means, from its action's verdict rules: shown beside the step. */
export interface StepVerdict {
  level: 'ok' | 'warn' | 'problem';
  text: string;
}

export type IncidentStatus = 'open' | 'resolved';

export interface Incident {
  /** Sequential number, shown as `#12`. */
  id: number;
  fingerprint: string;
  alertname: string;
  status: IncidentStatus;
  /** The latest version of the alert (labels, annotations, status). */
  alert: Alert;
  /** The configured host name the alert maps to, if any. */
  hostName?: string;
  channel: string;
  /** The thread the incident lives in (the alert message's ts). */
  threadTs: string;
  /** The incident message the bot posted (set once posted). */
  messageTs?: string;
  openedAt: string;
  resolvedAt?: string;
  resolvedBy?: string;
  /** When the last "still firing" reply was posted. */
  lastRepeatAt?: string;
  steps: Record<string, StepState>;
  /** Silences the bot made in Alertmanager for this incident, oldest first (empty or absent when none). */
  silences?: IncidentSilence[];
}

/** A silence the bot created in Alertmanager from the incident's thread. */
export interface IncidentSilence {
  /** Alertmanager's silence id. */
  id: string;
  /** The Slack user who asked for it, and the name Alertmanager shows as `createdBy`. */
  createdBy: string;
  createdByName: string;
  /** The labels the silence matches, each exactly. */
  matchers: Record<string, string>;
  startsAt: string;
  endsAt: string;
  comment: string;
  /** The user asked to keep it when the incident resolves (otherwise the bot expires it then). */
  keep: boolean;
  createdAt: string;
  /** Set once expired through the bot (a button, or the incident resolving). */
  expiredAt?: string;
  expiredBy?: string;
}

export type TimelineType =
  | 'alert.fired'
  | 'alert.repeated'
  | 'alert.resolved'
  | 'step.clicked'
  | 'step.queued'
  | 'step.started'
  | 'step.finished'
  | 'step.failed'
  | 'step.refused'
  /** The bot stopped while the step was queued or running: nothing ran, or its outcome is unknown. */
  | 'step.interrupted'
  | 'checklist.done'
  | 'mitigation.confirmed'
  | 'mitigation.refused'
  | 'mitigation.dry-run'
  | 'mitigation.verified'
  | 'mitigation.not-verified'
  | 'silence.created'
  | 'silence.expired'
  | 'note.added'
  /** Someone not allowed to tried `/incident resolve`: nothing changed. */
  | 'incident.resolve-refused'
  /** A person gave labels the alert message did not carry (Complete labels). */
  | 'labels.completed'
  /** A user picked the host of an incident whose alert names none (`/incident host`). */
  | 'host.chosen'
  | 'incident.resolved'
  /** The bot ran the triage steps by itself when the incident opened (or a person asked for a skipped one). */
  | 'triage.started'
  | 'triage.finished'
  /** Triage did not run: a storm, the host's budget, a silenced or resolved alert. */
  | 'triage.skipped';

export interface TimelineEvent {
  id: number;
  incidentId: number;
  at: string;
  /** A Slack user id, or `alertmanager`, `bot`. */
  actor: string;
  type: TimelineType;
  details: Record<string, unknown>;
}

/** One attempt to change a host, allowed or not: the audit log. */
export interface AuditRecord {
  id?: number;
  at: string;
  incidentId?: number;
  user: string;
  host: string;
  actionId: string;
  outcome: 'allowed' | 'refused' | 'failed' | 'dry-run' | 'ok';
  reason?: string;
  command?: string;
  exitCode?: number | null;
  verification?: string;
  details?: Record<string, unknown>;
}
