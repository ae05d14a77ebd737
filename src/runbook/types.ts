/** Runbooks and their steps, as data. */
import type { ActionSpec } from '../actions/types';
import type { CauseRule } from './cause-rules';

export type Section = 'diagnosis' | 'mitigation';

/** One numbered item of a runbook section, as written. */
export interface RunbookItem {
  number: number;
  /** The item's text, markdown stripped to plain text, nested bullets joined. */
  text: string;
  /** The item's bold lead-in (`1. **Check logs**: …` → `Check logs`) or its `### ` sub-heading, when it has one. */
  lead?: string;
}

/** A parsed runbook markdown file (srerun/prometheus-alerts format). */
export interface RunbookDoc {
  /** The alert name: front matter `title`, else the first `# ` heading. */
  alertname: string;
  description?: string;
  meaning: string;
  impact: string;
  diagnosis: RunbookItem[];
  mitigation: RunbookItem[];
  /** The `runbook:` annotation URL found in the embedded rule, if any. */
  url?: string;
  /** The alert rule's expression found in the embedded rule, if any. */
  expr?: string;
}

/** A step of an incident: one numbered runbook item (or an extra step from the binding). */
export interface Step {
  /** Stable id, used in buttons and the store: `diagnosis-1`, `mitigation-4`, `diagnosis-backend-state`. */
  id: string;
  section: Section;
  /** The runbook item's number; absent for extra steps added by the binding. */
  number?: number;
  /** A short label for the button (<= 75 chars). */
  title: string;
  /** The full text of the runbook item. */
  text: string;
  /** `action` steps run one of `actions` on the host; `checklist` steps are done by a person and recorded. */
  kind: 'action' | 'checklist';
  /** Action ids from the catalog; a step may offer several (e.g. restart and reload). Empty for checklist steps. */
  actions: string[];
}

/** The YAML binding that sits beside a runbook markdown file (`<Alert>.yml`). */
export interface RunbookBinding {
  alert: string;
  /** The runbook bound, relative to the binding file, when not the `.md` beside it; also chooses it among duplicates. */
  runbook?: string;
  /** Host names or groups to run on when the alert names no host; several means the user picks one. */
  hosts?: string[];
  /** The alert's label names, for recovering labels from messages that carry only values. */
  labels?: string[];
  /** The route's group_by, if known (`...` for every label): only a hint; the grouping is inferred from the title. */
  groupBy?: string[];
  /** The label whose value identifies the host (matched against `hosts[].match`); default `instance`. */
  hostLabel?: string;
  /** A PromQL expression template for the graph; `{label}` placeholders are replaced by label values. */
  query?: string;
  /** Step bindings by section and item number: an action id, a list of ids, or `checklist`. */
  steps?: Partial<Record<Section, Record<number, string | string[]>>>;
  /** Steps the markdown does not have, appended to their section. */
  extra?: Array<{ id: string; section: Section; title: string; text?: string; actions: string[] }>;
  /** Short button titles by step id, where the item's own text is too long. */
  titles?: Record<string, string>;
  /** Actions this runbook brings along (same shape and validation as the catalog's), so a new alert needs no core change. */
  actions?: ActionSpec[];
  /** Triage on open: off (`false`), or its steps (default: the catalog's `triage: true` actions) and cause rules. */
  triage?: false | { steps?: string[]; causes?: CauseRule[] };
}

/** A runbook ready to use: the document, its binding and the resolved steps. */
export interface Runbook {
  doc: RunbookDoc;
  binding?: RunbookBinding;
  steps: Step[];
  /** Where it was loaded from, for error messages. */
  file: string;
  /** Where its binding was loaded from, when it has one. */
  bindingFile?: string;
}
