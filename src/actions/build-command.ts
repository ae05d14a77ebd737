/**
 * Turns an action spec, an alert's labels and a host's config into the one shell string that will run. Every value
 * is resolved from its declared source, checked against its type's strict pattern and single-quoted; nothing else
 * reaches the template.
 */

import type { HostConfig } from '../config/schema';
import { PilotError } from '../errors';
import { fillTemplate, templatePlaceholders } from './command-template';
import { shellQuote } from './shell-quote';
import type { ActionSpec, BuiltCommand, ParamSpec } from './types';

export interface BuildContext {
  labels: Record<string, string>;
  host: HostConfig;
  /** Values chosen by the user for `input` parameters (bounded by the spec). */
  input?: Record<string, string | number>;
  /** The alert's server as HAProxy knows it, for `server:addr` / `server:port` parameters, when already looked up. */
  server?: { addr?: string; port?: number | string };
}

const NAME = /^[A-Za-z0-9._:-]{1,64}$/;
const PATH = /^\/[A-Za-z0-9._/-]+$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const INT = /^-?[0-9]{1,15}$/;

/** Builds the command for `action` in `ctx`; throws PilotError PARAM_INVALID naming the parameter, source and rule. */
export function buildCommand(action: ActionSpec, ctx: BuildContext): BuiltCommand {
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.params)) {
    const raw = resolveSource(spec, name, ctx);
    const value = raw === undefined || raw === '' ? spec.default : raw;
    if (value === undefined || value === '') {
      if (spec.optional) continue;
      throw paramError(name, spec, 'is required but has no value', raw);
    }
    values[name] = validateParam(name, spec, value);
  }
  const template = ctx.host.commands?.[action.id] ?? action.command;
  const names = Object.keys(action.params);
  checkOverride(action, template, names, ctx.host.name);
  const quoted = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, shellQuote(v)]));
  return { actionId: action.id, command: fillTemplate(template, names, quoted), params: values };
}

function resolveSource(spec: ParamSpec, name: string, ctx: BuildContext): string | number | undefined {
  const [kind, ...rest] = spec.from.split(':');
  const key = rest.join(':');
  switch (kind) {
    case 'label': {
      // `label:backend|proxy`: the first of the labels the alert has (exporters name the same thing differently).
      const found = key.split('|').find((l) => ctx.labels[l] !== undefined && ctx.labels[l] !== '');
      return found === undefined ? undefined : ctx.labels[found];
    }
    case 'const':
      return key;
    case 'input':
      return ctx.input?.[name];
    case 'server': {
      const v = ctx.server?.[key as 'addr' | 'port'];
      return v;
    }
    case 'host': {
      let cur: unknown = ctx.host;
      for (const part of key.split('.')) {
        if (cur === null || typeof cur !== 'object') return undefined;
        cur = (cur as Record<string, unknown>)[part];
      }
      if (typeof cur === 'string' || typeof cur === 'number') return cur;
      if (cur === undefined || cur === null) return undefined;
      throw paramError(name, spec, 'points at a config section, not a value', undefined);
    }
    default:
      throw paramError(name, spec, 'has an unknown source', undefined);
  }
}

/** Checks one parameter value against its type (the same check every command gets); throws PARAM_INVALID. */
export function validateParam(name: string, spec: ParamSpec, value: string | number): string {
  const s = String(value);
  // For non-enum types, `values` lists literal words accepted as they are (e.g. `journal` for a log path).
  if (spec.type !== 'enum' && spec.values?.includes(s)) return s;
  const fail = (rule: string): never => {
    throw paramError(name, spec, rule, s);
  };
  switch (spec.type) {
    case 'name':
      // A leading '-' would read as an option to the command receiving it, quoted or not.
      if (!NAME.test(s) || s.startsWith('-')) fail('must match ^[A-Za-z0-9._:-]{1,64}$ and not start with -');
      return s;
    case 'path':
      if (!PATH.test(s) || s.split('/').includes('..') || s.length > 255)
        fail('must be an absolute path of letters, digits, . _ / - without ..');
      return s;
    case 'host':
      if (s.startsWith('-') || !(HOSTNAME.test(s) || (s.includes(':') && IPV6.test(s))))
        fail('must be a host name or an IP address');
      return s;
    case 'port': {
      if (!/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) fail('must be a port number 1..65535');
      return String(Number(s));
    }
    case 'int': {
      if (!INT.test(s)) fail('must be an integer');
      const n = Number(s);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
        fail(`must be between ${spec.min} and ${spec.max}`);
      return String(n);
    }
    case 'enum':
      if (!spec.values?.includes(s)) fail(`must be one of ${(spec.values ?? []).join(', ')}`);
      return s;
  }
}

/** A host's override may only use the action's declared parameters, like the catalog's template. */
function checkOverride(action: ActionSpec, template: string, names: string[], hostName: string): void {
  if (template === action.command) return;
  try {
    for (const p of templatePlaceholders(template, names)) {
      if (p.optional && action.params[p.name]?.optional !== true)
        throw new Error(`{${p.name}?…} needs an optional parameter`);
    }
  } catch (err) {
    throw new PilotError('CONFIG_INVALID', `hosts[${hostName}].commands.${action.id}: ${(err as Error).message}`);
  }
}

function paramError(name: string, spec: ParamSpec, rule: string, value: string | number | undefined): PilotError {
  const shown = value === undefined ? '' : `; got ${preview(String(value))}`;
  return new PilotError('PARAM_INVALID', `Parameter "${name}" (from ${spec.from}, type ${spec.type}) ${rule}${shown}`, {
    details: { param: name, source: spec.from, type: spec.type },
  });
}

/** At most 60 characters of a rejected value, with control characters made visible, so logs stay readable. */
function preview(s: string): string {
  const cut = s.length > 60 ? `${s.slice(0, 60)}… (${s.length} chars)` : s;
  return JSON.stringify(cut);
}
