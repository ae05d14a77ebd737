/** From the `alertmanager` / `prometheus` config sections to the clients' settings. */
import type { Config } from '../config/schema';
import type { ServiceSettings } from './external-service';

/**
 * The outbound settings of a config section. For `alertmanager`, `token` guards the bot's own webhook and is never
 * sent out: only `apiToken` (or username/password) authenticates the bot to Alertmanager. For `prometheus`, which
 * has no webhook, `token` is accepted as the bearer token when `apiToken` is not set.
 */
export function serviceSettings(
  config: Pick<Config, 'alertmanager' | 'prometheus'>,
  which: 'alertmanager' | 'prometheus',
): ServiceSettings {
  const section = config[which];
  const apiToken = section.apiToken || (which === 'prometheus' && section.token ? section.token : undefined);
  return {
    url: section.url,
    apiToken,
    username: section.username,
    password: section.password,
    timeoutMs: section.timeoutMs,
  };
}
