/**
 * What the person typed into a modal → `view.state.values` as Slack sends it in view_submission. The page names each
 * field by its input block's index (render-blocks), so the values are looked up in the view the bot opened. Pure.
 */
import type { ViewStateValues } from '../slack-standin';
import { asJson, type Json, list, selectOptions } from './render-blocks';

/** Form values as the page posts them: `input-<block index>` → the field's values (option indexes for choices). */
export type ModalFormValues = Record<string, string[]>;

/** Builds view.state.values for the view's input blocks; fields the page did not send count as empty. */
export function viewStateValues(blocks: unknown, form: ModalFormValues): ViewStateValues {
  const values: ViewStateValues = {};
  list(blocks).forEach((block, index) => {
    if (block.type !== 'input') return;
    const e = asJson(block.element);
    const type = String(e.type);
    const sent = form[`input-${index}`] ?? [];
    const state = elementState(e, type, sent);
    if (!state) return;
    // Slack generates ids the bot did not set; these stand-ins are stable so a test can find them.
    const blockId = typeof block.block_id === 'string' ? block.block_id : `block-${index}`;
    const actionId = typeof e.action_id === 'string' ? e.action_id : `action-${index}`;
    values[blockId] = { [actionId]: state };
  });
  return values;
}

function elementState(e: Json, type: string, sent: string[]): Record<string, unknown> | undefined {
  // Choices come back as option indexes; an empty select sends ''.
  const pick = (options: Json[]) =>
    sent
      .filter((i) => /^\d+$/.test(i))
      .map((i) => options[Number(i)])
      .filter((o): o is Json => o !== undefined);
  switch (type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
      // Slack sends null for an empty optional field.
      return { type, value: sent[0] ? sent[0] : null };
    case 'checkboxes':
      return { type, selected_options: pick(list(e.options)) };
    case 'radio_buttons':
      return { type, selected_option: pick(list(e.options))[0] ?? null };
    case 'static_select':
      return { type, selected_option: pick(selectOptions(e))[0] ?? null };
    case 'multi_static_select':
      return { type, selected_options: pick(selectOptions(e)) };
    case 'datepicker':
      return { type, selected_date: sent[0] ? sent[0] : null };
    default:
      return undefined;
  }
}
