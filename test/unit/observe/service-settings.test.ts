import { parseConfigText } from '../../../src/config/load-config';
import { serviceSettings } from '../../../src/observe/service-settings';

const base = 'slack: { channels: [C0123ALERTS] }\n';

describe('serviceSettings', () => {
  it('never sends alertmanager.token (it guards the bot’s own webhook); apiToken is the outbound bearer', () => {
    const config = parseConfigText(
      `${base}alertmanager: { url: "http://am:9093", token: inbound, apiToken: outbound, timeoutMs: 800 }\n`,
      'test.yml',
    );
    expect(serviceSettings(config, 'alertmanager')).toEqual({
      url: 'http://am:9093',
      apiToken: 'outbound',
      username: undefined,
      password: undefined,
      timeoutMs: 800,
    });
    const noApiToken = parseConfigText(`${base}alertmanager: { url: "http://am:9093", token: inbound }\n`, 'test.yml');
    expect(serviceSettings(noApiToken, 'alertmanager').apiToken).toBeUndefined();
  });

  it('prometheus: apiToken, else token, else basic auth', () => {
    const withToken = parseConfigText(`${base}prometheus: { url: "http://prom:9090", token: t1 }\n`, 'test.yml');
    expect(serviceSettings(withToken, 'prometheus')).toMatchObject({
      url: 'http://prom:9090',
      apiToken: 't1',
      timeoutMs: 5000,
    });
    const basic = parseConfigText(
      `${base}prometheus: { url: "http://prom:9090", username: bot, password: pw }\n`,
      'test.yml',
    );
    expect(serviceSettings(basic, 'prometheus')).toMatchObject({
      apiToken: undefined,
      username: 'bot',
      password: 'pw',
    });
  });

  it('no URL: the clients say the feature is not configured', () => {
    expect(serviceSettings(parseConfigText(base, 'test.yml'), 'prometheus').url).toBeUndefined();
  });
});
