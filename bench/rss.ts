/** The benchmarks' one reading of another process's memory. */
import { readFileSync } from 'node:fs';

/** Resident memory of a process in MB, from /proc/<pid>/status (0 once it is gone). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
