/**
 * Makes graphs on a worker thread, so thousands of series never stall the event loop that acks Slack within 3 s
 * (issue #12: 3,000 series stalled it 4.6 s). All of it runs there: the range query, reading Prometheus's answer
 * (15 MB of JSON for 3,000 series of an hour), the summary and the drawing; the event loop only receives the PNG and
 * the words. One worker is kept warm and makes one graph at a time; a graph that takes longer than its budget ends
 * the worker (the next graph starts a fresh one) and fails with GRAPH_TIMEOUT.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCatalog, type ErrorCode, PilotError } from '../errors';
import type { AlertGraph, AlertGraphInput } from './alert-graph';
import type { ServiceSettings } from './external-service';

/**
 * The worker's code. From the compiled build it loads the .js modules; from the TypeScript sources (tests, the demo)
 * it registers ts-node first. Each `{ id, settings, input, now }` is answered with `{ id, graph }` or `{ id, error }`.
 */
function workerSource(modules: { graph: string; prometheus: string }, typescript: boolean): string {
  return `
    const { parentPort } = require('node:worker_threads');
    ${typescript ? "require('ts-node').register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } });" : ''}
    const { buildAlertGraph } = require(${JSON.stringify(modules.graph)});
    const { PrometheusClient } = require(${JSON.stringify(modules.prometheus)});
    parentPort.on('message', ({ id, settings, input, now }) => {
      buildAlertGraph({ prometheus: new PrometheusClient(settings), now: () => new Date(now) }, input).then(
        (g) => {
          const png = new Uint8Array(g.png);
          parentPort.postMessage({ id, graph: { ...g, png, series: [] } }, [png.buffer]);
        },
        (err) => parentPort.postMessage({ id, error: { code: err && err.code, message: String(err && err.message || err), hint: err && err.hint } }),
      );
    });`;
}

interface Job {
  id: number;
  message: { settings: ServiceSettings; input: AlertGraphInput; now: number };
  resolve(graph: AlertGraph): void;
  reject(err: unknown): void;
}

export interface GraphWorkerOptions {
  /** Prometheus' URL and credentials (the worker makes its own client). */
  settings: ServiceSettings;
  /** How long one graph may take once the worker has taken it; default 10 s. */
  timeoutMs?: number;
}

/** Graphs on one kept-warm worker thread, one at a time, each within its time budget. */
export class GraphWorker {
  private worker?: Worker;
  private readonly queue: Job[] = [];
  private current?: { job: Job; timer: NodeJS.Timeout };
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: GraphWorkerOptions) {}

  /**
   * Queries, summarises and draws the graph off the event loop (see buildAlertGraph). The graph's `series` is empty:
   * the samples stay in the worker; `seriesCount` and `drawn` say how many there were.
   */
  build(input: AlertGraphInput, now: Date): Promise<AlertGraph> {
    if (this.closed) return Promise.reject(new PilotError('SHUTTING_DOWN', 'the bot is stopping: no graph'));
    return new Promise((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        message: { settings: this.opts.settings, input, now: now.getTime() },
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Ends the worker; graphs not started are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new PilotError('SHUTTING_DOWN', 'the bot is stopping: no graph'));
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const job = this.queue.shift() as Job;
    const worker = this.ensureWorker();
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      // A graph past its budget is abandoned: the worker is ended, so the CPU it burns stops too.
      this.finish(job.id);
      job.reject(
        new PilotError(
          'GRAPH_TIMEOUT',
          `making the graph took longer than ${Math.round(timeoutMs / 100) / 10} s and was stopped`,
        ),
      );
      this.resetWorker();
    }, timeoutMs);
    this.current = { job, timer };
    worker.postMessage({ id: job.id, ...job.message });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const typescript = __filename.endsWith('.ts');
    const ext = typescript ? '.ts' : '.js';
    const modules = {
      graph: require.resolve(`./alert-graph${ext}`),
      prometheus: require.resolve(`./prometheus-client${ext}`),
    };
    const worker = new Worker(workerSource(modules, typescript), { eval: true });
    // An idle worker must not keep the process alive (close() ends it at stop).
    worker.unref();
    worker.on(
      'message',
      (msg: { id: number; graph?: AlertGraph; error?: { code?: string; message: string; hint?: string } }) => {
        const job = this.current?.job;
        if (!job || job.id !== msg.id) return;
        this.finish(job.id);
        if (msg.graph) job.resolve({ ...msg.graph, start: new Date(msg.graph.start), end: new Date(msg.graph.end) });
        else job.reject(rebuildError(msg.error));
        this.pump();
      },
    );
    worker.on('error', (err) => {
      const job = this.current?.job;
      if (job) {
        this.finish(job.id);
        job.reject(err);
      }
      this.resetWorker();
    });
    this.worker = worker;
    return worker;
  }

  private finish(id: number): void {
    if (this.current?.job.id !== id) return;
    clearTimeout(this.current.timer);
    this.current = undefined;
  }

  private resetWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.pump();
  }
}

/** A PilotError thrown in the worker comes back as one (its code, message and hint); anything else as an Error. */
function rebuildError(e: { code?: string; message: string; hint?: string } | undefined): Error {
  if (e?.code && e.code in ErrorCatalog)
    return new PilotError(e.code as ErrorCode, e.message, e.hint ? { hint: e.hint } : {});
  return new Error(`graph worker: ${e?.message ?? 'no answer'}`);
}
