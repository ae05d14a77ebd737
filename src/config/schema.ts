/**
 * The config file's schema: strict (an unknown key stops start-up), with defaults. Names here are an interface
 * operators rely on: add, don't rename.
 */
import { z } from 'zod';

const slackId = z.string().regex(/^[A-Z][A-Z0-9]{2,}$/, 'must be a Slack id such as C0123ALERTS, U0123 or S0123');
const hostName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a short name of letters, digits, . _ -');
const absPath = z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of letters, digits, . _ / -');
const url = z.string().url();

const basicOrBearer = z.strictObject({
  url: url.optional(),
  token: z.string().default(''),
  /** Bearer token the bot sends to this service's API (silences, alert state, graphs). Wins over username/password. */
  apiToken: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  timeoutMs: z.number().int().positive().default(5000),
});

export const HostSchema = z.strictObject({
  name: hostName,
  /** Optional group, so access rules can name several hosts at once. */
  group: hostName.optional(),
  /** Alert label values that mean this host: `{ instance: ["lb-1:9101"] }`. */
  match: z.record(z.string(), z.array(z.string().min(1)).min(1)),
  ssh: z
    .strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(22),
      user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Unix user name'),
      privateKeyPath: z.string().optional(),
      privateKeyEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/)
        .optional(),
      passphraseEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/)
        .optional(),
      hostKey: z
        .string()
        .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be SHA256:… as `ssh-keygen -lf` prints it')
        .optional(),
      knownHostsPath: z.string().optional(),
      connectTimeoutMs: z.number().int().positive().default(5000),
      /** Only for throwaway test hosts: accept any host key. Never the default. */
      insecureAcceptAnyHostKey: z.boolean().default(false),
    })
    .refine((s) => s.privateKeyPath || s.privateKeyEnv, {
      message: 'set privateKeyPath or privateKeyEnv',
      path: ['privateKeyPath'],
    })
    .refine((s) => s.hostKey || s.knownHostsPath || s.insecureAcceptAnyHostKey, {
      message: 'set hostKey (SHA256:…) or knownHostsPath: an unknown host key is refused',
      path: ['hostKey'],
    }),
  haproxy: z
    .strictObject({
      socket: absPath.default('/run/haproxy/admin.sock'),
      config: absPath.default('/etc/haproxy/haproxy.cfg'),
      /** A file path, or `journal` to read the service's journal. */
      log: z.union([absPath, z.literal('journal')]).default('/var/log/haproxy.log'),
      service: hostName.default('haproxy'),
      pidFile: absPath.default('/run/haproxy.pid'),
      /** Where a copy of the previous config is kept, for the recent-changes diff. */
      previousConfig: absPath.optional(),
    })
    .default({
      socket: '/run/haproxy/admin.sock',
      config: '/etc/haproxy/haproxy.cfg',
      log: '/var/log/haproxy.log',
      service: 'haproxy',
      pidFile: '/run/haproxy.pid',
    }),
  /** Per-action command overrides for this host (same template language as the catalog). */
  commands: z.record(z.string(), z.string().min(1)).default({}),
});

export const ConfigSchema = z.strictObject({
  slack: z.strictObject({
    channels: z.array(slackId).min(1, 'list at least one channel id to watch'),
    /**
     * Bot ids (B…), app ids (A…) and user ids (U…/W…) whose messages are read as alerts, firing and resolved. Unset:
     * any bot's message. A person's message may only open an incident for a known runbook, under their name.
     */
    alertSenders: z
      .array(z.string().regex(/^[ABUW][A-Z0-9]{2,}$/, 'must be a bot id (B…), app id (A…) or user id (U…/W…)'))
      .min(1, 'list at least one sender, or leave alertSenders out')
      .optional(),
    /** At most one "still firing" reply per incident per this many seconds. */
    stillFiringIntervalSec: z.number().int().nonnegative().default(3600),
    /** Pace of chat.postMessage per channel: Slack allows about one a second, with short bursts. */
    postsPerSecond: z.number().positive().max(50).default(1),
    postBurst: z.number().int().min(1).max(50).default(5),
    /** Posts waiting for the pace per channel, at most; a post beyond is refused (logged, the step's result stays on the timeline). */
    maxQueuedPosts: z.number().int().min(1).max(100_000).default(500),
    /** A Slack API call that has not answered after this long is abandoned and retried. */
    requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Retries of a failed Slack API call (HTTP 5xx, timeouts, 429 after its Retry-After), with backoff from 0.5 s. */
    retries: z.number().int().min(0).max(10).default(5),
  }),
  alertmanager: basicOrBearer
    .extend({
      /** Anyone in the channel may silence the incident's alert; by default only those who may run mitigation. */
      silenceOpenToAll: z.boolean().default(false),
      /**
       * Basic credentials POST /alertmanager accepts (Alertmanager's `http_config.basic_auth`), besides or instead of
       * the bearer `token`.
       */
      basicAuth: z.strictObject({ username: z.string().min(1), password: z.string().min(1) }).optional(),
      /** The operator's explicit choice to run the webhook with no credentials at all (warned at start). */
      allowUnauthenticated: z.boolean().default(false),
      /**
       * With the Slack receiver and the webhook on the same route (#18): how long a webhook alert waits for its Slack
       * message, and a Slack message read partially waits for the webhook's alerts, so that they meet: one incident per
       * alert, with the webhook's exact labels, in the Slack message's thread, whichever arrives first. 0: no waiting
       * (a webhook alert is announced at once by the bot's own message).
       */
      slackMessageWaitSec: z.number().min(0).max(600).default(0),
    })
    .default({
      token: '',
      timeoutMs: 5000,
      silenceOpenToAll: false,
      allowUnauthenticated: false,
      slackMessageWaitSec: 0,
    }),
  prometheus: basicOrBearer
    .extend({
      /** Most series drawn in a graph; the rest are summarised in words beside it. */
      maxSeries: z.number().int().min(1).max(500).default(20),
      /** How long drawing one graph may take (on a worker thread) before it is stopped. */
      renderTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    })
    .default({ token: '', timeoutMs: 5000, maxSeries: 20, renderTimeoutMs: 10_000 }),
  /**
   * Bounds on what alerts may cost (issue #12): the webhook's queue (503 with Retry-After when full) and the size of
   * what one alert may carry (longer values are cut and the incident says so).
   */
  ingest: z
    .strictObject({
      /** Alerts accepted but not yet handled, at most; the webhook answers 503 beyond it (Alertmanager retries). */
      maxQueuedAlerts: z.number().int().min(1).max(100_000).default(1000),
      /** Alerts handled at once (the order of one alert's notifications is kept). */
      concurrency: z.number().int().min(1).max(64).default(4),
      /** The Retry-After of a 503 when the queue is full. */
      retryAfterSec: z.number().int().min(1).max(3600).default(30),
      /** Most characters of one label or annotation value; longer ones are cut. */
      maxValueChars: z.number().int().min(64).max(100_000).default(2048),
      /** Most characters of one alert (all names and values); annotations give way first, then labels. */
      maxAlertChars: z.number().int().min(1024).max(1_000_000).default(16_384),
    })
    .default({ maxQueuedAlerts: 1000, concurrency: 4, retryAfterSec: 30, maxValueChars: 2048, maxAlertChars: 16_384 }),
  /**
   * What requests may hold before they are handled (issue #19): the bytes of every request body in flight at once, on
   * every route; beyond it a request is answered 503 with Retry-After before its body is read.
   */
  http: z
    .strictObject({
      maxBytesInFlight: z
        .number()
        .int()
        .min(1024 * 1024)
        .max(1024 * 1024 * 1024)
        .default(8 * 1024 * 1024),
    })
    .default({ maxBytesInFlight: 8 * 1024 * 1024 }),
  runbooks: z.string().default('./runbooks'),
  store: z
    .strictObject({
      /** SQLite file: the embedded store of a single bot process. */
      path: z.string().default('./runbook-pilot.db'),
      /** postgres://user:password@host:port/database: the store several replicas share (DATABASE_URL when unset). */
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// (or postgresql://) URL')
        .optional(),
    })
    .default({ path: './runbook-pilot.db' }),
  hosts: z.array(HostSchema).default([]),
  access: z
    .strictObject({
      /** Users and user groups who may run mitigation on any host. */
      mitigate: z.array(slackId).default([]),
      /** Extra grants by host name or host group. */
      hosts: z.record(z.string(), z.array(slackId)).default({}),
      /** Users and user groups who may also resolve an incident by hand (besides those who may mitigate its host). */
      resolve: z.array(slackId).optional(),
      /** Cache of user-group members, in seconds. */
      groupCacheSec: z.number().int().positive().default(300),
    })
    .default({ mitigate: [], hosts: {}, groupCacheSec: 300 }),
  limits: z
    .strictObject({
      perHost: z
        .strictObject({
          concurrency: z.number().int().min(1).max(10).default(2),
          minGapMs: z.number().int().nonnegative().default(100),
          maxQueued: z.number().int().positive().default(100),
        })
        .default({ concurrency: 2, minGapMs: 100, maxQueued: 100 }),
      global: z.strictObject({ concurrency: z.number().int().min(1).default(20) }).default({ concurrency: 20 }),
      perUser: z
        .strictObject({ clicksPerMinute: z.number().int().min(1).default(30) })
        .default({ clicksPerMinute: 30 }),
      /**
       * Replicas share the per-host limits, the per-user click limit and the per-channel post pace through this Redis
       * (REDIS_URL when unset). Without it each process keeps its own.
       */
      redis: z
        .strictObject({
          /** redis://[:password@]host:port[/db] or rediss:// (TLS). */
          url: z
            .string()
            .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// (or rediss://) URL')
            .optional(),
          /** Namespace of the keys: bots that share a Redis share limits only under the same prefix. */
          prefix: z
            .string()
            .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1–64 letters, digits, . _ -')
            .default('runbook-pilot'),
          /** A Redis call that has not answered after this long fails the click (nothing runs without its limits). */
          timeoutMs: z.number().int().min(50).max(60_000).default(2000),
        })
        .default({ prefix: 'runbook-pilot', timeoutMs: 2000 }),
    })
    .default({
      perHost: { concurrency: 2, minGapMs: 100, maxQueued: 100 },
      global: { concurrency: 20 },
      perUser: { clicksPerMinute: 30 },
      redis: { prefix: 'runbook-pilot', timeoutMs: 2000 },
    }),
  mitigation: z
    .strictObject({
      dryRun: z.boolean().default(false),
      cooldownSec: z.number().int().nonnegative().default(300),
      maxRestartsPerHour: z.number().int().positive().default(3),
      verifyDelayMs: z.number().int().nonnegative().default(1500),
      /** Actions that restart the service: the cooldown and the hourly budget apply to them. */
      restartActions: z.array(z.string()).default(['restart', 'reload']),
      /** How long a host's mitigation lock may be held before it is considered stale (a crash mid-action). */
      lockTtlSec: z.number().int().positive().default(600),
      /**
       * A binding's own actions the config trusts as read-only: action id → its exact command template (whitespace
       * aside). Every other binding action runs as host-changing (access list and confirmation), whatever its `risk`.
       */
      readActions: z.record(z.string().min(1), z.string().min(1)).optional(),
    })
    .default({
      dryRun: false,
      cooldownSec: 300,
      maxRestartsPerHour: 3,
      verifyDelayMs: 1500,
      restartActions: ['restart', 'reload'],
      lockTtlSec: 600,
    }),
  /**
   * Triage (issue #22): the read steps the bot runs by itself when an incident opens, into one message in the thread.
   * Bounded per host and overall; a skipped triage is one click away.
   */
  triage: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Triages started per host in any minute, at most; more say "triage skipped" with a button. */
      perHostPerMinute: z.number().int().min(0).max(1000).default(6),
      /** Incidents opened in any minute beyond which triage is skipped (an alert storm): "N incidents this minute". */
      maxPerMinute: z.number().int().min(0).max(10_000).default(10),
      /** How long a triage waits for Alertmanager's word (silenced, resolved) before it runs anyway. */
      alertStateWaitMs: z.number().int().min(0).max(10_000).default(1000),
    })
    .default({ enabled: true, perHostPerMinute: 6, maxPerMinute: 10, alertStateWaitMs: 1000 }),
  shutdown: z
    .strictObject({
      /** On SIGTERM, how long running steps may take to finish before they are cut off and recorded as interrupted. */
      graceMs: z.number().int().nonnegative().max(600_000).default(20_000),
    })
    .default({ graceMs: 20_000 }),
  /** Several bot processes sharing one store (store.url): how they hand work over when one dies. */
  replicas: z
    .strictObject({
      /**
       * How long a replica's claim to post an incident's message holds: if it dies before posting, another replica
       * posts it on the alert's next delivery after this.
       */
      postClaimSec: z.number().int().min(5).max(3600).default(120),
      /**
       * How long a queued or running step's lease holds without renewal: once it expired (its replica died), another
       * replica records the step interrupted. Seconds; at least three heartbeats, so one late heartbeat loses nothing.
       */
      leaseSec: z.number().min(1).max(3600).default(30),
      /** How often a replica renews its steps' leases and sweeps for expired ones, in seconds. */
      heartbeatSec: z.number().min(0.2).max(600).default(5),
    })
    .refine((r) => r.heartbeatSec * 3 <= r.leaseSec, {
      message:
        'replicas.heartbeatSec must be at most a third of replicas.leaseSec (a late heartbeat must not expire a lease)',
      path: ['heartbeatSec'],
    })
    .default({ postClaimSec: 120, leaseSec: 30, heartbeatSec: 5 }),
  ssh: z
    .strictObject({
      keepaliveIntervalMs: z.number().int().positive().default(10000),
      idleCloseMs: z.number().int().positive().default(300000),
    })
    .default({ keepaliveIntervalMs: 10000, idleCloseMs: 300000 }),
});

export type Config = z.infer<typeof ConfigSchema>;
export type HostConfig = z.infer<typeof HostSchema>;
