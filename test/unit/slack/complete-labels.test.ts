import { builtinActions } from '../../../src/actions/catalog';
import type { HostConfig } from '../../../src/config/schema';
import { assertLabelsPresent } from '../../../src/incident/complete-labels';
import { completeLabelsModal, labelFields, readCompleteLabelsForm } from '../../../src/slack/blocks/complete-labels';
import { openIncident as incidentFixture } from '../../support/domain-fixtures';
import { expectPilotError } from '../../support/expect-pilot-error';

const host = (name: string, instance: string) => ({ name, match: { instance: [instance] } }) as unknown as HostConfig;
const hosts = [host('lb-1', 'lb-1:9101'), host('lb-2', 'lb-2:9101')];
const actions = builtinActions;
const fields = labelFields(['instance', 'server', 'cluster'], hosts, actions);
const value = (v: string) => ({ value: { type: 'plain_text_input', value: v } });
const select = (v: string) => ({ value: { type: 'static_select', selected_option: { value: v } } });

describe('Complete labels form', () => {
  it('offers the configured hosts for the host label and text checked by the actions for the others', () => {
    expect(fields[0].hostOptions).toEqual([
      { host: 'lb-1', value: 'lb-1:9101' },
      { host: 'lb-2', value: 'lb-2:9101' },
    ]);
    expect(fields[1].specs.length).toBeGreaterThan(0); // actions take `server` from the alert
    expect(fields[2].specs).toEqual([]);
    const view = JSON.stringify(completeLabelsModal(incidentFixture(), fields));
    expect(view).toContain('"type":"static_select"');
    expect(view).toContain('lb-2 (lb-2:9101)');
  });

  it.each<[string, Record<string, unknown>, Record<string, string> | RegExp]>([
    [
      'valid values',
      { 'label:instance': select('lb-2:9101'), 'label:server': value('web2'), 'label:cluster': value('eu west') },
      { instance: 'lb-2:9101', server: 'web2', cluster: 'eu west' },
    ],
    [
      'a host that is not configured (a forged submission)',
      { 'label:instance': select('10.0.0.9:22'), 'label:server': value('web2'), 'label:cluster': value('eu') },
      /configured hosts/,
    ],
    [
      'a server value no step would accept',
      { 'label:instance': select('lb-1:9101'), 'label:server': value('web2;reboot'), 'label:cluster': value('eu') },
      /server/,
    ],
    [
      'an empty value',
      { 'label:instance': select('lb-1:9101'), 'label:server': value('  '), 'label:cluster': value('eu') },
      /Give a value/,
    ],
    [
      'two lines',
      { 'label:instance': select('lb-1:9101'), 'label:server': value('web2'), 'label:cluster': value('eu\nwest') },
      /One line/,
    ],
  ])('%s', (_name, values, expected) => {
    const form = readCompleteLabelsForm(values as Parameters<typeof readCompleteLabelsForm>[0], fields);
    if (expected instanceof RegExp) {
      expect('errors' in form && Object.values(form.errors).join(' ')).toMatch(expected);
    } else {
      expect(form).toEqual({ labels: expected });
    }
  });
});

describe('assertLabelsPresent', () => {
  const backendState = builtinActions.find((a) => a.id === 'backend-state') as (typeof builtinActions)[number];

  it('says which labels a step needs that the alert message did not carry', () => {
    const incident = incidentFixture();
    incident.hostName = undefined;
    incident.alert = {
      ...incident.alert,
      labels: { alertname: 'HaproxyServerDown', backend: 'web' },
      missingLabels: ['instance', 'server'],
    };
    expectPilotError(() => assertLabelsPresent(incident, backendState, hosts), 'LABELS_MISSING', '`instance`');
  });

  it('lets a step run when its labels are there', () => {
    expect(() => assertLabelsPresent(incidentFixture(), backendState, hosts)).not.toThrow();
  });
});
