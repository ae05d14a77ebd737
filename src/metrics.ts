/**
 * Prometheus metrics (prom-client), one registry per app so tests and replicas do not share counters. The counters
 * exist from construction (the SSH executor and the Slack client count into them before anything else is built); the
 * gauges read their sources at scrape time and are registered once those sources exist (`watch`).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsSources {
  /** Read at scrape time; may be a promise (a store on the network). */
  openIncidents(): number | Promise<number>;
  hostQueues(): Record<string, { queued: number; running: number }>;
  sshStats(): { connects: number; reconnects: number; failures: number; open: number };
  slackQueued(): number;
  /** Webhook alerts accepted and not yet handled. */
  intakeQueued(): number;
  /** Alerts (from Slack or the webhook) whose work is under way or held for their other delivery. */
  alertsInProgress?(): number;
  /** Redis failures of the shared limits since start, by limit (absent: limits are per process). */
  limitsErrors?(): Record<string, number>;
}

export class Metrics {
  /** Served on PORT's /metrics (when METRICS_PORT is unset) and on METRICS_PORT's. */
  readonly registry = new Registry();
  /**
   * Series labelled with host names (queue depth, running actions, SSH errors): served only on METRICS_PORT, which
   * need not be public; PORT's /metrics would tell anyone who reaches Slack's endpoint the load balancers' names
   * (issue #19 §11).
   */
  readonly hostRegistry = new Registry();
  readonly alertsReceived = new Counter({
    name: 'runbook_pilot_alerts_received_total',
    help: 'Alerts received, by source and status',
    labelNames: ['source', 'status'] as const,
    registers: [this.registry],
  });
  readonly alertsRefused = new Counter({
    name: 'runbook_pilot_alerts_refused_total',
    help: 'Webhook alerts refused because the intake queue was full (503, Alertmanager retries) or the batch could never fit (413), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly slackRequestsRefused = new Counter({
    name: 'runbook_pilot_slack_requests_refused_total',
    help: 'Requests to /slack/events answered before their body was read, by reason (401: no signature or a timestamp more than five minutes off, 413: a body over the cap, busy: the budget of bytes in flight spent)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly httpBytesInFlight = new Gauge({
    name: 'runbook_pilot_http_bytes_in_flight',
    help: 'Bytes reserved by request bodies being read or handled (bounded by http.maxBytesInFlight)',
    registers: [this.registry],
  });
  readonly actions = new Counter({
    name: 'runbook_pilot_actions_total',
    help: 'Actions run or refused, by action id and result',
    labelNames: ['action', 'result'] as const,
    registers: [this.registry],
  });
  readonly actionDuration = new Histogram({
    name: 'runbook_pilot_action_duration_seconds',
    help: 'Time from the start of an action on its host to its result',
    labelNames: ['action'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly slackErrors = new Counter({
    name: 'runbook_pilot_slack_api_errors_total',
    help: 'Slack requests that failed, by method and reason (http_<status>, network, or Slack’s error code); each failed attempt of a retried call counts',
    labelNames: ['method', 'reason'] as const,
    registers: [this.registry],
  });
  readonly slackRateLimited = new Counter({
    name: 'runbook_pilot_slack_rate_limit_waits_total',
    help: 'Times Slack answered 429 and the bot waited, by method',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });
  readonly sshErrors = new Counter({
    name: 'runbook_pilot_ssh_errors_total',
    help: 'SSH failures seen by actions (could not connect, host key, auth, timeout, lost connection), by host and error code',
    labelNames: ['host', 'code'] as const,
    registers: [this.hostRegistry],
  });

  readonly stepsInterrupted = new Counter({
    name: 'runbook_pilot_steps_interrupted_total',
    help: 'Steps recorded interrupted by a sweep because the process running them is gone, by reason (lease_expired: another replica stopped renewing its lease; restart: left by a previous run)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly leaseHeartbeats = new Counter({
    name: 'runbook_pilot_step_lease_heartbeats_total',
    help: 'Heartbeats of the step leases (renew this replica’s leases, sweep expired ones) that ended, by result (ok, failed); a rate of 0 means this replica’s running steps will be taken for dead',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private watched = false;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'runbook_pilot_' });
  }

  /**
   * Registers the gauges that read `sources` at scrape time, as prom-client collectors: once, by the composition root,
   * when the store, queues and pool they read have been built.
   */
  watch(sources: MetricsSources): void {
    if (this.watched) throw new Error('Metrics.watch: the gauges are registered already');
    this.watched = true;
    const registers = [this.registry];
    new Gauge({
      name: 'runbook_pilot_incidents_open',
      help: 'Open incidents',
      registers,
      async collect() {
        this.set(await sources.openIncidents());
      },
    });
    const perHost = (name: string, help: string, field: 'queued' | 'running') =>
      new Gauge({
        name,
        help,
        labelNames: ['host'] as const,
        registers: [this.hostRegistry],
        collect() {
          this.reset();
          for (const [host, q] of Object.entries(sources.hostQueues())) this.set({ host }, q[field]);
        },
      });
    perHost('runbook_pilot_host_queue_depth', 'Actions waiting for a host', 'queued');
    perHost('runbook_pilot_host_running', 'Actions running on a host', 'running');
    // The pool keeps a running count; a counter (not a gauge) so rate() and increase() work on it.
    let seenFailures = 0;
    new Counter({
      name: 'runbook_pilot_ssh_connection_failures_total',
      help: 'SSH connection attempts that failed since start',
      registers,
      collect() {
        const failures = sources.sshStats().failures;
        if (failures > seenFailures) this.inc(failures - seenFailures);
        seenFailures = Math.max(seenFailures, failures);
      },
    });
    new Gauge({
      name: 'runbook_pilot_ssh_connections_open',
      help: 'SSH connections open now',
      registers,
      collect() {
        this.set(sources.sshStats().open);
      },
    });
    new Gauge({
      name: 'runbook_pilot_alerts_queued',
      help: 'Webhook alerts accepted (202) and not yet handled',
      registers,
      collect() {
        this.set(sources.intakeQueued());
      },
    });
    new Gauge({
      name: 'runbook_pilot_alerts_in_progress',
      help: 'Alerts (from Slack or the webhook) being handled (opened, posted, resolved) or held for their other delivery',
      registers,
      collect() {
        this.set(sources.alertsInProgress?.() ?? 0);
      },
    });
    new Gauge({
      name: 'runbook_pilot_slack_posts_queued',
      help: 'Slack posts waiting for the per-channel pace',
      registers,
      collect() {
        this.set(sources.slackQueued());
      },
    });
    // Counted by the shared limits; a counter read at scrape time, like the SSH failures.
    const seenLimitsErrors: Record<string, number> = {};
    new Counter({
      name: 'runbook_pilot_limits_redis_errors_total',
      help: 'Redis failures of the shared limits (limits.redis.url), by limit (host, clicks, posts, connection); a command refused for one was not run',
      labelNames: ['limit'] as const,
      registers,
      collect() {
        for (const [limit, n] of Object.entries(sources.limitsErrors?.() ?? {})) {
          const seen = seenLimitsErrors[limit] ?? 0;
          if (n > seen) this.inc({ limit }, n - seen);
          seenLimitsErrors[limit] = Math.max(seen, n);
        }
      },
    });
  }
}
