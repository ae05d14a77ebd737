/**
 * The outbound HTTP side of the observe features: one axios instance per service (base URL, auth, timeout) and one
 * translation of every failure into a PilotError that names the service, its URL and what to check.
 */
import type { AxiosInstance, AxiosRequestConfig, AxiosStatic, CreateAxiosDefaults } from 'axios';
import type { z } from 'zod';
import { PilotError } from '../errors';

let axiosModule: AxiosStatic | undefined;
/**
 * axios (with follow-redirects, form-data and the proxy agents: about 5 MB of a replica's resident memory) is loaded
 * at the first request to Prometheus or Alertmanager, not at start: most replicas idle without one (issue #20).
 */
function loadAxios(): AxiosStatic {
  axiosModule ??= require('axios') as AxiosStatic;
  return axiosModule;
}

/** How the bot reaches Prometheus or Alertmanager. Mirrors the `alertmanager` / `prometheus` config sections. */
export interface ServiceSettings {
  /** Base URL, e.g. `http://alertmanager:9093` (a path prefix is kept). Undefined: the feature is not configured. */
  url?: string;
  /** Bearer token for the service's API. Wins over basic auth when both are set. */
  apiToken?: string;
  username?: string;
  password?: string;
  timeoutMs: number;
}

/** Which service, for messages: its name and the config key that holds its URL. */
export interface ServiceName {
  /** `Alertmanager`, `Prometheus`. */
  label: string;
  /** `alertmanager`, `prometheus`: the config section. */
  configKey: string;
}

/** Larger answers are refused: a graph or an alert list never needs more, and a bad proxy should not fill memory. */
const MAX_RESPONSE_BYTES = 20 * 1024 * 1024;

/** The URL as it may be shown: without user:password. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * A thin wrapper around an axios instance that knows the service's name, so every failure becomes one clear
 * PilotError. `url` undefined means the feature is not configured: every call says so.
 */
export class ExternalService {
  /** The axios options; undefined when the service is not configured. */
  private readonly httpOptions?: CreateAxiosDefaults;
  /** Created at the first request (see loadAxios). */
  private http?: AxiosInstance;

  constructor(
    readonly name: ServiceName,
    private readonly settings: ServiceSettings,
  ) {
    if (!settings.url) return;
    const auth = settings.apiToken
      ? { headers: { Authorization: `Bearer ${settings.apiToken}` } }
      : settings.username !== undefined
        ? { auth: { username: settings.username, password: settings.password ?? '' } }
        : {};
    this.httpOptions = {
      // A trailing slash so relative paths keep a path prefix (`http://host/alertmanager/` + `api/v2/...`).
      baseURL: settings.url.endsWith('/') ? settings.url : `${settings.url}/`,
      timeout: settings.timeoutMs,
      maxContentLength: MAX_RESPONSE_BYTES,
      maxRedirects: 0,
      // Prometheus and Alertmanager answer errors as JSON too; the status is checked by `request`.
      validateStatus: () => true,
      // Keep the raw text: a body that is not JSON must be reported, not silently passed on as a string.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      ...auth,
    };
  }

  /** True when the service's URL is set. */
  get configured(): boolean {
    return this.httpOptions !== undefined;
  }

  /** The URL without credentials, for messages. */
  get url(): string {
    return this.settings.url ? displayUrl(this.settings.url) : '(not set)';
  }

  /**
   * Sends one request and returns the status and the parsed JSON body (undefined when empty). Throws PilotError
   * EXTERNAL_UNAVAILABLE when the service is not configured, unreachable, slow, or answers something that is not
   * JSON; HTTP statuses are left to the caller, except 401/403 (credentials) and 5xx (the service is unwell).
   */
  async request(config: AxiosRequestConfig): Promise<{ status: number; body: unknown }> {
    if (!this.httpOptions) throw this.notConfigured();
    this.http ??= loadAxios().create(this.httpOptions);
    const http = this.http;
    let status: number;
    let text: string;
    try {
      // axios' `timeout` is an idle timer on the socket; the signal also bounds a server that trickles bytes.
      const res = await http.request<string>({
        ...config,
        signal: AbortSignal.timeout(this.settings.timeoutMs + 100),
      });
      status = res.status;
      text = typeof res.data === 'string' ? res.data : '';
    } catch (err) {
      // Not the AxiosError itself as the cause: its config carries the Authorization header into any log of it.
      throw this.unavailable(describeTransportError(err, this.settings.timeoutMs), scrubbed(err));
    }
    if (status === 401 || status === 403) {
      throw new PilotError(
        'EXTERNAL_UNAVAILABLE',
        `${this.name.label} at ${this.url} refused the bot's credentials (HTTP ${status})`,
        {
          hint: `check ${this.name.configKey}.apiToken, or ${this.name.configKey}.username and password`,
        },
      );
    }
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw this.badAnswer(`HTTP ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`, err);
      }
    }
    if (status >= 500) throw this.badAnswer(`HTTP ${status}${errorText(body) ? `: ${errorText(body)}` : ''}`);
    return { status, body };
  }

  /** Parses a body with a schema; a mismatch means the URL points at something else. */
  parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw this.badAnswer(
      `its answer to ${what} is not what its API returns (${issue.path.join('.') || 'body'}: ${issue.message})`,
    );
  }

  /** EXTERNAL_UNAVAILABLE: the service could not be reached or did not answer in time. */
  unavailable(reason: string, cause?: unknown): PilotError {
    return new PilotError('EXTERNAL_UNAVAILABLE', `${this.name.label} at ${this.url} did not answer (${reason})`, {
      hint: `check ${this.name.configKey}.url in the config and that ${this.name.label} is up and reachable from the bot`,
      cause,
    });
  }

  /** EXTERNAL_UNAVAILABLE: the service answered, but with an error or something that is not its API. */
  badAnswer(reason: string, cause?: unknown): PilotError {
    return new PilotError(
      'EXTERNAL_UNAVAILABLE',
      `${this.name.label} at ${this.url} gave an unusable answer (${reason})`,
      {
        hint: `check ${this.name.configKey}.url points at ${this.name.label} itself (not a proxy or login page) and ${this.name.label}'s own logs`,
        cause,
      },
    );
  }

  private notConfigured(): PilotError {
    return new PilotError(
      'EXTERNAL_UNAVAILABLE',
      `${this.name.label} is not configured: ${this.name.configKey}.url is not set`,
      {
        hint: `set ${this.name.configKey}.url in the config (e.g. http://${this.name.configKey}:${this.name.configKey === 'alertmanager' ? 9093 : 9090})`,
      },
    );
  }
}

/** The `error` field Prometheus and Alertmanager put in their error bodies, or Alertmanager's plain string. */
export function errorText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.error === 'string') return b.error;
    if (typeof b.message === 'string') return b.message;
  }
  return undefined;
}

function scrubbed(err: unknown): Error {
  const code = (err as { code?: unknown } | undefined)?.code;
  return new Error(`${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`);
}

function describeTransportError(err: unknown, timeoutMs: number): string {
  // only reached after a request, so axios is loaded already
  const axios = loadAxios();
  const { AxiosError } = axios;
  if (axios.isCancel(err) || (err instanceof AxiosError && (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT'))) {
    return `no answer within ${timeoutMs} ms`;
  }
  const code = err instanceof AxiosError ? err.code : (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ERR_BAD_RESPONSE':
    case 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED':
      return err instanceof Error ? err.message : 'bad response';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
