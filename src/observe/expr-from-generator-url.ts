/** The alert rule's expression, read back from the `generatorURL` Prometheus puts on every alert. */

/**
 * Returns `g0.expr` from a Prometheus graph URL (`http://prom:9090/graph?g0.expr=haproxy_server_up+%3D%3D+0&g0.tab=1`),
 * or undefined when the URL is missing, malformed, or not Prometheus' (Grafana's generatorURL carries no expression).
 */
export function exprFromGeneratorUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const expr = parsed.searchParams.get('g0.expr')?.trim();
  return expr ? expr : undefined;
}
