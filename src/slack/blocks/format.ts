/** Small text helpers shared by the Block Kit builders. */

/** `2026-11-25 03:12 UTC`: incidents last past midnight, so the date is always shown. */
export function formatUtc(iso: string | undefined): string {
  if (!iso) return 'unknown time';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return 'unknown time';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `1.2 s`, `350 ms`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSec = Math.round(ms / 1000);
  if (totalSec < 3600) return `${Math.floor(totalSec / 60)} min ${totalSec % 60} s`;
  return `${Math.floor(totalSec / 3600)} h ${Math.floor((totalSec % 3600) / 60)} min`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters (Block Kit limits), marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** A code block safe for mrkdwn: backtick fences inside the text are broken up so they cannot close it. */
export function codeBlock(text: string, max: number): string {
  const safe = escapeMrkdwn(text.replace(/```/g, '`\u200b``'));
  const body = safe.length + 8 > max ? `${safe.slice(0, max - 9)}…` : safe;
  return '```\n' + (body.length ? body : ' ') + '\n```';
}
