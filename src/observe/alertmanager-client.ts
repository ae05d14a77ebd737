/**
 * Alertmanager's API v2, as the bot needs it: create and expire a silence for one alert, read a silence back, and
 * ask whether an alert is still firing. Matchers are exact, built from the alert's own labels.
 */
import { z } from 'zod';
import { PilotError } from '../errors';
import { ExternalService, errorText, type ServiceSettings } from './external-service';
import { assertLabelName, quoteMatcherValue } from './quote-label-value';

/** One matcher of a silence, as Alertmanager's API v2 takes and returns it. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface CreateSilenceInput {
  /** The alert's labels: every label becomes an exact matcher. */
  labels: Record<string, string>;
  startsAt: Date;
  endsAt: Date;
  /** The Slack user's name: Alertmanager shows it as the silence's author. */
  createdBy: string;
  /** Why, and the incident's link (see `silenceComment`). */
  comment: string;
}

export type SilenceState = 'active' | 'pending' | 'expired';

/** A silence as Alertmanager returns it. */
export interface Silence {
  id: string;
  state: SilenceState;
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  createdBy: string;
  comment: string;
}

/** What Alertmanager knows about an alert right now. */
export interface AlertState {
  /** True while Alertmanager holds the alert as not resolved (whether silenced, inhibited or not). */
  firing: boolean;
  /** Alertmanager's own state: `active` (notifying), `suppressed` (silenced or inhibited), `unprocessed`. */
  state?: 'active' | 'suppressed' | 'unprocessed';
  /** Ids of the silences that mute it. */
  silencedBy: string[];
  inhibitedBy: string[];
  startsAt?: string;
  fingerprint?: string;
  generatorURL?: string;
  /** The alert's full label set as Alertmanager holds it (what a silence should match). */
  labels?: Record<string, string>;
  /** How many alerts matched (more than one when the labels given are a subset). */
  matched: number;
}

const SilenceIdSchema = z.string().regex(/^[0-9a-fA-F-]{36}$/, 'must be a silence id (a UUID)');

const MatcherSchema = z.object({
  name: z.string(),
  value: z.string(),
  isRegex: z.boolean(),
  isEqual: z.boolean().default(true),
});

const GettableSilenceSchema = z.object({
  id: z.string(),
  status: z.object({ state: z.enum(['active', 'pending', 'expired']) }),
  matchers: z.array(MatcherSchema),
  startsAt: z.string(),
  endsAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
});

const GettableAlertsSchema = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).default({}),
    startsAt: z.string(),
    fingerprint: z.string(),
    generatorURL: z.string().optional(),
    status: z.object({
      state: z.enum(['active', 'suppressed', 'unprocessed']),
      silencedBy: z.array(z.string()),
      inhibitedBy: z.array(z.string()),
    }),
  }),
);

/**
 * The exact matchers that silence exactly this alert: one per label, sorted by name. Labels with an empty value are
 * left out (an empty value is the same as no label to Alertmanager, and a silence needs matchers that match
 * something). Throws PARAM_INVALID on a bad label name or when no label is left.
 */
export function silenceMatchers(labels: Record<string, string>): SilenceMatcher[] {
  const matchers = Object.keys(labels)
    .sort()
    .filter((name) => labels[name] !== '')
    .map((name) => {
      assertLabelName(name);
      return { name, value: labels[name], isRegex: false, isEqual: true };
    });
  if (matchers.length === 0)
    throw new PilotError('PARAM_INVALID', 'the alert has no labels: a silence needs at least one');
  return matchers;
}

/** One alert as Alertmanager's API v2 holds it (`GET /api/v2/alerts`). */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Alertmanager's own fingerprint of the labels: the alert's identity. */
  fingerprint: string;
  generatorURL?: string;
  state: 'active' | 'suppressed' | 'unprocessed';
}

/** Alertmanager's API v2 client (axios underneath; base URL, auth and timeout from the `alertmanager` config). */
export class AlertmanagerClient {
  private readonly service: ExternalService;

  constructor(settings: ServiceSettings) {
    this.service = new ExternalService({ label: 'Alertmanager', configKey: 'alertmanager' }, settings);
  }

  /** True when `alertmanager.url` is set; when false every call throws a PilotError that says so. */
  get configured(): boolean {
    return this.service.configured;
  }

  /** Creates a silence with exact matchers from the alert's labels. Returns Alertmanager's silence id. */
  async createSilence(input: CreateSilenceInput): Promise<{ silenceId: string }> {
    if (!(input.endsAt.getTime() > input.startsAt.getTime())) {
      throw new PilotError(
        'PARAM_INVALID',
        `the silence would end (${input.endsAt.toISOString()}) before it starts (${input.startsAt.toISOString()})`,
      );
    }
    if (input.createdBy.trim() === '' || input.comment.trim() === '') {
      throw new PilotError(
        'PARAM_INVALID',
        'a silence needs an author and a comment (Alertmanager refuses it otherwise)',
      );
    }
    const body = {
      matchers: silenceMatchers(input.labels),
      startsAt: input.startsAt.toISOString(),
      endsAt: input.endsAt.toISOString(),
      createdBy: input.createdBy,
      comment: input.comment,
    };
    const res = await this.service.request({
      method: 'POST',
      url: 'api/v2/silences',
      data: body,
      headers: { 'Content-Type': 'application/json' },
    });
    this.rejectClientError(res, 'the silence');
    const { silenceID } = this.service.parse(
      z.object({ silenceID: z.string().min(1) }),
      res.body,
      'POST /api/v2/silences',
    );
    return { silenceId: silenceID };
  }

  /**
   * Expires a silence now (`DELETE /api/v2/silence/{id}`). Alertmanager answers 200 for a silence that already
   * expired, so a second click is harmless; `not-found` means Alertmanager no longer knows the id.
   */
  async expireSilence(id: string): Promise<'expired' | 'not-found'> {
    const res = await this.service.request({
      method: 'DELETE',
      url: `api/v2/silence/${encodeURIComponent(checkSilenceId(id))}`,
    });
    if (res.status === 404) return 'not-found';
    this.rejectClientError(res, `silence ${id}`);
    return 'expired';
  }

  /** Reads a silence back; undefined when Alertmanager does not know the id. */
  async getSilence(id: string): Promise<Silence | undefined> {
    const res = await this.service.request({
      method: 'GET',
      url: `api/v2/silence/${encodeURIComponent(checkSilenceId(id))}`,
    });
    if (res.status === 404) return undefined;
    this.rejectClientError(res, `silence ${id}`);
    const s = this.service.parse(GettableSilenceSchema, res.body, 'GET /api/v2/silence/{id}');
    return {
      id: s.id,
      state: s.status.state,
      matchers: s.matchers,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      updatedAt: s.updatedAt,
      createdBy: s.createdBy,
      comment: s.comment,
    };
  }

  /**
   * What Alertmanager holds for the alert with these labels (`GET /api/v2/alerts?active=true&filter=…`, one exact
   * filter per label). Resolved alerts are not returned by Alertmanager, so `firing: false` means resolved or never
   * received.
   */
  async getAlertState(labels: Record<string, string>): Promise<AlertState> {
    const params = new URLSearchParams();
    params.set('active', 'true');
    params.set('silenced', 'true');
    params.set('inhibited', 'true');
    for (const m of silenceMatchers(labels)) params.append('filter', `${m.name}=${quoteMatcherValue(m.value)}`);
    const res = await this.service.request({ method: 'GET', url: `api/v2/alerts?${params.toString()}` });
    this.rejectClientError(res, 'the alert filter');
    const alerts = this.service.parse(GettableAlertsSchema, res.body, 'GET /api/v2/alerts');
    if (alerts.length === 0) return { firing: false, silencedBy: [], inhibitedBy: [], matched: 0 };
    // Several matches only when the caller gave a subset of the labels: report the one that started first.
    const a = [...alerts].sort((x, y) => x.startsAt.localeCompare(y.startsAt))[0];
    return {
      firing: true,
      state: a.status.state,
      silencedBy: a.status.silencedBy,
      inhibitedBy: a.status.inhibitedBy,
      startsAt: a.startsAt,
      fingerprint: a.fingerprint,
      generatorURL: a.generatorURL,
      labels: a.labels,
      matched: alerts.length,
    };
  }

  /**
   * Every alert Alertmanager holds (active, silenced or inhibited) whose labels include all of `labels` exactly
   * (`GET /api/v2/alerts`, one `filter` matcher per label). An empty `labels` lists every alert.
   */
  async listAlerts(labels: Record<string, string>): Promise<AlertmanagerAlert[]> {
    const params = new URLSearchParams();
    params.set('active', 'true');
    params.set('silenced', 'true');
    params.set('inhibited', 'true');
    for (const name of Object.keys(labels).sort()) {
      if (labels[name] === '') continue;
      assertLabelName(name);
      params.append('filter', `${name}=${quoteMatcherValue(labels[name])}`);
    }
    const res = await this.service.request({ method: 'GET', url: `api/v2/alerts?${params.toString()}` });
    this.rejectClientError(res, 'the alert filter');
    return this.service.parse(GettableAlertsSchema, res.body, 'GET /api/v2/alerts').map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      fingerprint: a.fingerprint,
      ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
      state: a.status.state,
    }));
  }

  /** True while Alertmanager holds the alert with these labels as firing (silenced or not). */
  async isAlertActive(labels: Record<string, string>): Promise<boolean> {
    return (await this.getAlertState(labels)).firing;
  }

  private rejectClientError(res: { status: number; body: unknown }, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    throw new PilotError(
      'PARAM_INVALID',
      `Alertmanager at ${this.service.url} refused ${what} (HTTP ${res.status}: ${errorText(res.body) ?? 'no reason given'})`,
      {
        hint: 'the labels came from the alert; check them, nothing was changed in Alertmanager',
      },
    );
  }
}

function checkSilenceId(id: string): string {
  const parsed = SilenceIdSchema.safeParse(id);
  if (!parsed.success)
    throw new PilotError('PARAM_INVALID', `${JSON.stringify(id.slice(0, 60))} is not an Alertmanager silence id`);
  return parsed.data;
}
