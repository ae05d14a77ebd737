/**
 * What the bot has learned about each alertname's labels from sources that carry them with their names (the
 * webhook, Alertmanager's API, community templates, labels a person completed): the label-name sets and the values
 * seen per label. The title parser uses both as evidence when the default Slack title carries values only.
 * Bounded: a few name sets and a few dozen values per label, most recent kept.
 */
export interface LabelMemoryLimits {
  alertnames: number;
  nameSetsPerAlert: number;
  valuesPerLabel: number;
}

const DEFAULT_LIMITS: LabelMemoryLimits = { alertnames: 500, nameSetsPerAlert: 4, valuesPerLabel: 64 };

interface Learned {
  /** Sorted name sets, most recent last. */
  nameSets: string[][];
  values: Map<string, Set<string>>;
}

export class LabelMemory {
  private readonly byAlert = new Map<string, Learned>();
  private readonly limits: LabelMemoryLimits;

  constructor(limits: Partial<LabelMemoryLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Records a complete label set (it must carry `alertname`); partial label sets must not be given. */
  learn(labels: Readonly<Record<string, string>>): void {
    const alertname = labels.alertname;
    if (!alertname) return;
    let entry = this.byAlert.get(alertname);
    if (entry) this.byAlert.delete(alertname);
    entry ??= { nameSets: [], values: new Map() };
    this.byAlert.set(alertname, entry); // re-inserted: most recently used last
    if (this.byAlert.size > this.limits.alertnames) this.byAlert.delete(this.byAlert.keys().next().value as string);

    const names = Object.keys(labels).sort();
    const key = names.join('\u0000');
    entry.nameSets = entry.nameSets.filter((s) => s.join('\u0000') !== key);
    entry.nameSets.push(names);
    if (entry.nameSets.length > this.limits.nameSetsPerAlert) entry.nameSets.shift();

    for (const [name, value] of Object.entries(labels)) {
      const set = entry.values.get(name) ?? new Set<string>();
      set.delete(value);
      set.add(value);
      if (set.size > this.limits.valuesPerLabel) set.delete(set.values().next().value as string);
      entry.values.set(name, set);
    }
  }

  /** The label-name sets seen for this alertname, most recent last. */
  nameSets(alertname: string): ReadonlyArray<readonly string[]> {
    return this.byAlert.get(alertname)?.nameSets ?? [];
  }

  /** Values seen for one label of this alertname. */
  values(alertname: string, label: string): ReadonlySet<string> | undefined {
    return this.byAlert.get(alertname)?.values.get(label);
  }
}
