import { viewStateValues } from '../../support/demo-page/view-state-values';

const option = (text: string, value: string) => ({ text: { type: 'plain_text', text }, value });
const BLOCKS = [
  { type: 'section', text: { type: 'mrkdwn', text: 'Confirm' } },
  {
    type: 'input',
    block_id: 'reason',
    label: { type: 'plain_text', text: 'Why?' },
    element: { type: 'plain_text_input', action_id: 'reason' },
  },
  {
    type: 'input',
    block_id: 'options',
    optional: true,
    label: { type: 'plain_text', text: 'Options' },
    element: {
      type: 'checkboxes',
      action_id: 'options',
      options: [option('Dry run', 'dry-run'), option('Notify', 'notify')],
    },
  },
  {
    type: 'input',
    block_id: 'mode',
    label: { type: 'plain_text', text: 'Mode' },
    element: {
      type: 'static_select',
      action_id: 'mode',
      option_groups: [
        { label: { type: 'plain_text', text: 'g' }, options: [option('maint', 'maint'), option('drain', 'drain')] },
      ],
    },
  },
  {
    type: 'input',
    label: { type: 'plain_text', text: 'Who' },
    element: { type: 'radio_buttons', options: [option('me', 'me'), option('you', 'you')] },
  },
  {
    type: 'input',
    block_id: 'note',
    optional: true,
    label: { type: 'plain_text', text: 'Note' },
    element: { type: 'plain_text_input', action_id: 'note' },
  },
];

describe('viewStateValues', () => {
  it("builds view.state.values the way Slack sends them (Bolt's ViewStateValue)", () => {
    // when
    const values = viewStateValues(BLOCKS, {
      'input-1': ['web2 flaps'],
      'input-2': ['0', '1'],
      'input-3': ['1'],
      'input-4': ['1'],
      'input-5': [''],
    });
    // then
    expect(values).toEqual({
      reason: { reason: { type: 'plain_text_input', value: 'web2 flaps' } },
      options: {
        options: { type: 'checkboxes', selected_options: [option('Dry run', 'dry-run'), option('Notify', 'notify')] },
      },
      mode: { mode: { type: 'static_select', selected_option: option('drain', 'drain') } },
      'block-4': { 'action-4': { type: 'radio_buttons', selected_option: option('you', 'you') } },
      note: { note: { type: 'plain_text_input', value: null } },
    });
  });

  it('treats fields the page did not send, and option indexes that do not exist, as empty', () => {
    const values = viewStateValues(BLOCKS, { 'input-2': ['7', 'x'], 'input-3': [''] });
    expect(values.reason.reason).toEqual({ type: 'plain_text_input', value: null });
    expect(values.options.options).toEqual({ type: 'checkboxes', selected_options: [] });
    expect(values.mode.mode).toEqual({ type: 'static_select', selected_option: null });
  });
});
