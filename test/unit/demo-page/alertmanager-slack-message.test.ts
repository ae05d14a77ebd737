import { alertmanagerSlackMessage } from '../../support/demo-page/alertmanager-slack-message';

const LABELS = {
  alertname: 'HaproxyServerDown',
  backend: 'web',
  instance: '127.0.0.1:9101',
  job: 'haproxy',
  server: 'web2',
  severity: 'critical',
};

describe('alertmanagerSlackMessage', () => {
  it('has the shape of the captured default-template message (test/fixtures/slack/single.slack-default.firing.event.json)', () => {
    // when
    const message = alertmanagerSlackMessage(
      { alertname: 'HaproxyServerDown', labels: LABELS, status: 'firing' },
      { alertmanagerUrl: 'http://alertmanager.example.org:9093/#/alerts?receiver=haproxy-oncall' },
    );
    // then: the fixture's fields, byte for byte
    expect(message).toEqual({
      text: '',
      username: 'Alertmanager',
      icons: {},
      attachments: [
        {
          id: 1,
          title: '[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy web2 critical)',
          title_link: 'http://alertmanager.example.org:9093/#/alerts?receiver=haproxy-oncall',
          fallback:
            '[FIRING:1] HaproxyServerDown (web 127.0.0.1:9101 haproxy web2 critical) | http://alertmanager.example.org:9093/#/alerts?receiver=haproxy-oncall',
          color: 'a30200',
          mrkdwn_in: ['fallback', 'pretext', 'text'],
        },
      ],
    });
  });

  it('says RESOLVED in green, and stores &, <, > escaped as Slack does', () => {
    const message = alertmanagerSlackMessage({
      alertname: 'HaproxyServerDown',
      labels: { ...LABELS, server: '<b>&' },
      status: 'resolved',
    });
    const [attachment] = message.attachments as Array<{ title: string; color: string }>;
    expect(attachment.title).toBe('[RESOLVED] HaproxyServerDown (web 127.0.0.1:9101 haproxy &lt;b&gt;&amp; critical)');
    expect(attachment.color).toBe('2eb886');
  });
});
