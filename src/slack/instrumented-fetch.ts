/**
 * A fetch for the Slack clients that counts failed requests and 429 waits. Bolt gives listeners their own WebClient
 * (one per team, built from the same clientOptions), so wrapping one client's apiCall misses most calls; the fetch
 * in clientOptions is shared by all of them and by respond().
 */
import type { FetchFunction } from '@slack/web-api';
import type { Metrics } from '../metrics';

type SlackMetrics = Pick<Metrics, 'slackErrors' | 'slackRateLimited'>;

/** Wraps `base` (globalThis.fetch by default) so every Slack request that fails is counted by method and reason. */
export function instrumentedFetch(metrics: SlackMetrics, base: typeof fetch = globalThis.fetch): FetchFunction {
  return async (url, init) => {
    const method = slackMethod(url);
    let res: Response;
    try {
      res = await base(url, init as RequestInit);
    } catch (err) {
      metrics.slackErrors.inc({ method, reason: 'network' });
      throw err;
    }
    if (res.status === 429) {
      metrics.slackRateLimited.inc({ method });
    } else if (res.status !== 200) {
      metrics.slackErrors.inc({ method, reason: `http_${res.status}` });
    } else if ((res.headers.get('content-type') ?? '').includes('application/json')) {
      const reason = await slackError(res);
      if (reason) metrics.slackErrors.inc({ method, reason });
    }
    return res;
  };
}

/** `chat.postMessage` for a Web API URL, `response_url` for respond(), `upload` for a file upload URL. */
export function slackMethod(url: string | URL): string {
  const { pathname } = new URL(String(url), 'http://slack.invalid');
  const api = /\/api\/([A-Za-z0-9_.]+)$/.exec(pathname);
  if (api) return api[1];
  if (/^\/(actions|commands)\//.test(pathname)) return 'response_url';
  return 'upload';
}

// Slack answers most failures with 200 and `{ ok: false, error }`; read a copy so the client still gets the body.
async function slackError(res: Response): Promise<string | undefined> {
  try {
    const body = (await res.clone().json()) as { ok?: unknown; error?: unknown };
    if (body.ok !== false) return undefined;
    return typeof body.error === 'string' && /^[a-z0-9_]{1,64}$/.test(body.error) ? body.error : 'unknown';
  } catch {
    return undefined;
  }
}
