/**
 * The alert identity Alertmanager and Prometheus use: `model.LabelSet.Fingerprint()` from prometheus/common.
 * FNV-1a 64 over the label names in byte order, each name then 0xff then its value then 0xff, printed as 16 lowercase
 * hex digits. Computing the same value lets an alert seen in Slack and the same alert from the webhook meet.
 */

const OFFSET64 = 0xcbf29ce484222325n;
const PRIME64 = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

function addBytes(hash: bigint, bytes: Uint8Array): bigint {
  let h = hash;
  for (const b of bytes) h = ((h ^ BigInt(b)) * PRIME64) & MASK64;
  return h;
}

function addByte(hash: bigint, b: number): bigint {
  return ((hash ^ BigInt(b)) * PRIME64) & MASK64;
}

/** Alertmanager's fingerprint of a label set (`model.LabelSet.Fingerprint()`), as 16 lowercase hex digits. */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  // Go sorts label names as byte strings; Buffer.compare gives the same order for any UTF-8.
  const names = Object.keys(labels)
    .map((n) => Buffer.from(n, 'utf8'))
    .sort(Buffer.compare);
  let h = OFFSET64;
  for (const name of names) {
    h = addBytes(h, name);
    h = addByte(h, SEPARATOR);
    h = addBytes(h, Buffer.from(labels[name.toString('utf8')], 'utf8'));
    h = addByte(h, SEPARATOR);
  }
  return h.toString(16).padStart(16, '0');
}
