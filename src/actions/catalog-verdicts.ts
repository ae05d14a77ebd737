/**
 * The catalog's verdicts and triage marks, by action id: which read actions run by themselves when an incident opens
 * (`triage: true`), and how each one's output becomes a verdict. Data only; the catalog's specs carry them (see
 * `withVerdicts`), and they pass the same schema a binding's own actions do.
 */
import type { ActionSpec } from './types';
import type { VerdictSpec } from './verdicts';

export const catalogVerdicts: Record<string, { triage?: boolean; verdicts: VerdictSpec }> = {
  'backend-state': {
    triage: true,
    verdicts: {
      parser: 'haproxy-backend-state',
      rules: [
        { when: { answered: false }, level: 'problem', say: "HAProxy's stats socket gave no backend {backend}" },
        { when: { found: false }, level: 'warn', say: '{server} is not a server of backend {backend}' },
        {
          when: { status: 'DOWN' },
          level: 'problem',
          say: '{server} DOWN — {checkInfo}, {since}; {up} of {total} servers up',
        },
        {
          when: { status: 'MAINT' },
          level: 'warn',
          say: '{server} in MAINT (set by hand), {since}; {up} of {total} up',
        },
        { when: { status: 'DRAIN' }, level: 'warn', say: '{server} DRAIN (set by hand); {up} of {total} servers up' },
        {
          when: { status: 'UP' },
          level: 'ok',
          say: '{server} UP now ({check}) for {since}; {up} of {total} servers up',
        },
        { level: 'warn', say: '{server} {status} — {checkInfo}; {up} of {total} servers up' },
      ],
    },
  },
  'status-check': {
    triage: true,
    verdicts: {
      parser: 'haproxy-process',
      rules: [
        {
          when: { running: true },
          level: 'ok',
          say: 'haproxy running, pid {pid} up {uptime}, listening on {listening}',
        },
        { when: { systemd: { in: ['inactive', 'failed'] } }, level: 'problem', say: 'haproxy is {systemd} (systemd)' },
        {
          when: { processes: 0 },
          level: 'problem',
          say: 'haproxy is not running: no process, and its stats socket does not answer',
        },
        {
          level: 'problem',
          say: "haproxy does not answer on its stats socket ({processes} haproxy process(es) on the host, none of them this config's)",
        },
      ],
    },
  },
  'config-check': {
    triage: true,
    verdicts: {
      parser: 'haproxy-config',
      rules: [
        { when: { valid: true, exit: 0 }, level: 'ok', say: 'config valid' },
        { when: { exit: 127 }, level: 'warn', say: 'config not checked: {error}' },
        { when: { line: { ge: 1 } }, level: 'problem', say: 'config invalid: line {line}: {error}' },
        { level: 'problem', say: 'config invalid: {error}' },
      ],
    },
  },
  'log-tail': {
    triage: true,
    verdicts: {
      parser: 'haproxy-log',
      rules: [
        { when: { readable: false }, level: 'warn', say: 'log not read: {last}' },
        { when: { lines: 0 }, level: 'ok', say: 'no log lines about {about} in the last 5000' },
        { when: { lastState: 'DOWN' }, level: 'problem', say: '{lines} lines about {about} in {span}, last: "{last}"' },
        { level: 'warn', say: '{lines} lines about {about} in {span}, last: "{last}"' },
      ],
    },
  },
  'proxy-log': {
    verdicts: {
      parser: 'haproxy-log',
      rules: [
        { when: { readable: false }, level: 'warn', say: 'log not read: {last}' },
        { when: { lines: 0 }, level: 'ok', say: 'no log lines about {about} in the last 5000' },
        { level: 'warn', say: '{lines} lines about {about} in {span}, last: "{last}"' },
      ],
    },
  },
  'connectivity-check': {
    triage: true,
    verdicts: {
      parser: 'tcp-connect',
      rules: [
        { when: { result: 'connected' }, level: 'ok', say: 'LB → {addr}:{port} connected in {ms} ms' },
        { when: { result: 'refused' }, level: 'problem', say: 'LB → {addr}:{port} refused in {ms} ms' },
        {
          when: { result: 'timeout' },
          level: 'problem',
          say: 'LB → {addr}:{port} timed out after {timeoutSec} s (no answer: packets dropped?)',
        },
        { when: { result: 'failed' }, level: 'problem', say: 'LB → {addr}:{port} failed: {detail}' },
        { level: 'warn', say: 'could not test the LB → {server} connection: {detail}' },
      ],
    },
  },
  'disk-space': {
    triage: true,
    verdicts: {
      parser: 'df',
      rules: [
        {
          when: { usePct: { ge: 90 } },
          level: 'problem',
          say: '{mount} {usePct}% full, {avail} free of {size}; largest: {biggest}',
        },
        {
          when: { usePct: { ge: 80 } },
          level: 'warn',
          say: '{mount} {usePct}% used, {avail} free of {size}; largest: {biggest}',
        },
        { when: { usePct: { ge: 0 } }, level: 'ok', say: '{mount} {usePct}% used, {avail} free of {size}' },
        { level: 'warn', say: 'df gave no usage for the mount' },
      ],
    },
  },
  'memory-usage': {
    triage: true,
    verdicts: {
      parser: 'free',
      rules: [
        {
          when: { availPct: { lt: 10 } },
          level: 'problem',
          say: 'memory low: {availMb} MB available of {totalMb} MB ({availPct}%); most: {topMem}',
        },
        {
          when: { availPct: { lt: 20 } },
          level: 'warn',
          say: '{availMb} MB available of {totalMb} MB ({availPct}%); most: {topMem}',
        },
        {
          when: { swapPct: { ge: 50 } },
          level: 'warn',
          say: 'swap {swapPct}% used; {availPct}% memory available; most: {topMem}',
        },
        {
          when: { availPct: { ge: 0 } },
          level: 'ok',
          say: '{availPct}% memory available ({availMb} of {totalMb} MB); most: {topMem}',
        },
        { level: 'warn', say: 'free gave no memory figures' },
      ],
    },
  },
  'cpu-load': {
    triage: true,
    verdicts: {
      parser: 'cpu-load',
      rules: [
        {
          when: { perCpu: { ge: 2 } },
          level: 'problem',
          say: 'load {load1} on {cpus} CPU(s) ({perCpu} per CPU), iowait {iowait}%; busiest: {topCpu}',
        },
        {
          when: { iowait: { ge: 20 } },
          level: 'warn',
          say: 'iowait {iowait}% (load {load1} on {cpus} CPUs): the disks are the bottleneck; busiest: {topCpu}',
        },
        {
          when: { perCpu: { ge: 1 } },
          level: 'warn',
          say: 'load {load1} on {cpus} CPU(s) ({perCpu} per CPU); busiest: {topCpu}',
        },
        {
          when: { perCpu: { ge: 0 } },
          level: 'ok',
          say: 'load {load1} on {cpus} CPU(s) ({perCpu} per CPU); busiest: {topCpu}',
        },
        { level: 'warn', say: 'no load figures in the output' },
      ],
    },
  },
};

/** The spec with its verdicts and triage mark from `catalogVerdicts`, when it has any. Pure. */
export function withVerdicts(spec: ActionSpec): ActionSpec {
  const extra = catalogVerdicts[spec.id];
  return extra ? { ...spec, ...extra } : spec;
}
