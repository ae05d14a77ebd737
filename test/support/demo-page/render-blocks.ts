/**
 * Block Kit → safe HTML for the demo page: header, section (text, fields, accessory), context, actions, divider,
 * image, rich_text, input (in modals), and legacy attachments as Alertmanager sends them. Buttons carry what a click
 * needs in data attributes; the page's script posts them back. Pure: everything comes in as arguments.
 */
import { escapeHtml, safeUrl } from './escape-html';
import { type MrkdwnContext, renderMrkdwn, renderSlackPlain } from './render-mrkdwn';

/** Loose Block Kit shapes: the page shows whatever the bot sent, so nothing is assumed present. */
export type Json = Record<string, unknown>;

/** Where a button sits, so a click can be delivered for it. */
export interface ButtonTarget {
  channel: string;
  messageTs: string;
  /** Set for buttons on an ephemeral message (they are not in the channel's history). */
  ephemeral?: boolean;
}

export interface BlockContext extends MrkdwnContext {
  /** Buttons in messages are clickable; in modals (no target) they are shown disabled. */
  target?: ButtonTarget;
}

/** Renders a list of blocks. Input blocks get their form fields named by block index (see viewStateValues). */
export function renderBlocks(blocks: unknown, ctx: BlockContext): string {
  if (!Array.isArray(blocks)) return '';
  return blocks.map((block, index) => renderBlock(asJson(block), index, ctx)).join('');
}

function renderBlock(block: Json, index: number, ctx: BlockContext): string {
  switch (block.type) {
    case 'header':
      return `<h3 class="bk-header">${textObject(block.text, ctx)}</h3>`;
    case 'section':
      return renderSection(block, ctx);
    case 'context':
      return `<div class="bk-context">${list(block.elements)
        .map((e) => (e.type === 'image' ? image(e, 'bk-context-img') : `<span>${textObject(e, ctx)}</span>`))
        .join('')}</div>`;
    case 'actions':
      return `<div class="bk-actions">${list(block.elements)
        .map((e) => element(e, block, ctx))
        .join('')}</div>`;
    case 'divider':
      return '<hr class="bk-divider">';
    case 'image':
      return `<figure class="bk-image">${block.title ? `<figcaption>${textObject(block.title, ctx)}</figcaption>` : ''}${image(block, '')}</figure>`;
    case 'rich_text':
      return `<div class="bk-rich">${list(block.elements)
        .map((e) => richElement(e, ctx))
        .join('')}</div>`;
    case 'input':
      return renderInput(block, index, ctx);
    default:
      return `<div class="bk-unknown">[${escapeHtml(block.type)} block]</div>`;
  }
}

function renderSection(block: Json, ctx: BlockContext): string {
  const text = block.text ? `<div class="bk-text">${textObject(block.text, ctx)}</div>` : '';
  const fields = list(block.fields);
  const fieldsHtml = fields.length
    ? `<div class="bk-fields">${fields.map((f) => `<div>${textObject(f, ctx)}</div>`).join('')}</div>`
    : '';
  const accessory = block.accessory
    ? `<div class="bk-accessory">${element(asJson(block.accessory), block, ctx)}</div>`
    : '';
  return `<div class="bk-section"><div class="bk-main">${text}${fieldsHtml}</div>${accessory}</div>`;
}

/** An interactive element in a message or an actions block: buttons work, the rest is shown for what it is. */
function element(e: Json, block: Json, ctx: BlockContext): string {
  if (e.type === 'image') return image(e, 'bk-accessory-img');
  if (e.type !== 'button')
    return `<span class="bk-unsupported" title="not clickable in the demo page">[${escapeHtml(e.type)}]</span>`;
  const style = e.style === 'primary' || e.style === 'danger' ? ` ${e.style}` : '';
  const label = textObject(e.text, ctx);
  const url = typeof e.url === 'string' ? safeUrl(e.url) : undefined;
  if (!ctx.target) return `<button type="button" class="bk-button${style}" disabled>${label}</button>`;
  const attrs = [
    ['data-channel', ctx.target.channel],
    ['data-message-ts', ctx.target.messageTs],
    ['data-action-id', e.action_id],
    ['data-block-id', block.block_id],
    ['data-value', e.value],
    ['data-ephemeral', ctx.target.ephemeral ? '1' : undefined],
    ['data-url', url],
  ]
    .filter(([, v]) => typeof v === 'string')
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join('');
  return `<button type="button" class="bk-button${style}"${attrs}>${label}</button>`;
}

function image(e: Json, cls: string): string {
  const src = typeof e.image_url === 'string' ? (safeUrl(e.image_url) ?? localUrl(e.image_url)) : undefined;
  if (!src) return `<span class="bk-unsupported">[image: ${escapeHtml(e.alt_text)}]</span>`;
  return `<img class="${cls}" src="${escapeHtml(src)}" alt="${escapeHtml(e.alt_text)}">`;
}

/** Images the stand-in itself serves (uploaded files) are referenced by path. */
function localUrl(url: string): string | undefined {
  return /^\/demo\/files\/[A-Z0-9]+$/.test(url) ? url : undefined;
}

/** A text object: mrkdwn is rendered, plain_text is only escaped. */
export function textObject(t: unknown, ctx: MrkdwnContext): string {
  const o = asJson(t);
  const text = typeof o.text === 'string' ? o.text : '';
  return o.type === 'mrkdwn' ? renderMrkdwn(text, ctx) : escapeHtml(text).replace(/\n/g, '<br>');
}

function richElement(e: Json, ctx: MrkdwnContext): string {
  const inline = (els: unknown) =>
    list(els)
      .map((x) => richInline(x, ctx))
      .join('');
  switch (e.type) {
    case 'rich_text_section':
      return `<div>${inline(e.elements)}</div>`;
    case 'rich_text_preformatted':
      return `<pre class="code">${inline(e.elements)}</pre>`;
    case 'rich_text_quote':
      return `<blockquote>${inline(e.elements)}</blockquote>`;
    case 'rich_text_list': {
      const tag = e.style === 'ordered' ? 'ol' : 'ul';
      return `<${tag}>${list(e.elements)
        .map((item) => `<li>${inline(item.elements)}</li>`)
        .join('')}</${tag}>`;
    }
    default:
      return '';
  }
}

function richInline(x: Json, ctx: MrkdwnContext): string {
  const style = asJson(x.style);
  let html: string;
  switch (x.type) {
    case 'text':
      html = escapeHtml(x.text).replace(/\n/g, '<br>');
      break;
    case 'link': {
      const url = typeof x.url === 'string' ? safeUrl(x.url) : undefined;
      html = url
        ? `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(x.text ?? url)}</a>`
        : escapeHtml(x.text ?? x.url);
      break;
    }
    case 'user':
      html = `<span class="mention">@${escapeHtml(ctx.userName(String(x.user_id)) ?? x.user_id)}</span>`;
      break;
    case 'channel':
      html = `<span class="mention">#${escapeHtml(ctx.channelName(String(x.channel_id)) ?? x.channel_id)}</span>`;
      break;
    case 'usergroup':
      html = `<span class="mention">@${escapeHtml(x.usergroup_id)}</span>`;
      break;
    case 'broadcast':
      html = `<span class="mention">@${escapeHtml(x.range)}</span>`;
      break;
    case 'emoji':
      html =
        typeof x.unicode === 'string' && /^[0-9a-f-]+$/i.test(x.unicode)
          ? String.fromCodePoint(...x.unicode.split('-').map((h) => parseInt(h, 16)))
          : `:${escapeHtml(x.name)}:`;
      break;
    default:
      html = '';
  }
  if (style.code) html = `<code>${html}</code>`;
  if (style.bold) html = `<b>${html}</b>`;
  if (style.italic) html = `<i>${html}</i>`;
  if (style.strike) html = `<s>${html}</s>`;
  return html;
}

/** An input block of a modal: the field is named by the block's index, so no id from the bot reaches a name. */
function renderInput(block: Json, index: number, ctx: BlockContext): string {
  const e = asJson(block.element);
  const name = `input-${index}`;
  const required = block.optional === true ? '' : ' required';
  const label = `<label class="bk-label" for="${name}">${textObject(block.label, ctx)}${block.optional === true ? ' <span class="optional">(optional)</span>' : ''}</label>`;
  const hint = block.hint ? `<div class="bk-hint">${textObject(block.hint, ctx)}</div>` : '';
  const placeholder = e.placeholder ? ` placeholder="${escapeHtml(asJson(e.placeholder).text)}"` : '';
  const length = `${typeof e.min_length === 'number' ? ` minlength="${e.min_length}"` : ''}${typeof e.max_length === 'number' ? ` maxlength="${e.max_length}"` : ''}`;
  let field: string;
  switch (e.type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input': {
      const value =
        typeof e.initial_value === 'string' || typeof e.initial_value === 'number' ? String(e.initial_value) : '';
      if (e.multiline === true) {
        field = `<textarea id="${name}" name="${name}" rows="3"${placeholder}${length}${required}>${escapeHtml(value)}</textarea>`;
      } else {
        const type =
          { email_text_input: 'email', url_text_input: 'url', number_input: 'number' }[String(e.type)] ?? 'text';
        const step = e.type === 'number_input' && e.is_decimal_allowed === true ? ' step="any"' : '';
        field = `<input id="${name}" name="${name}" type="${type}"${step} value="${escapeHtml(value)}"${placeholder}${length}${required}>`;
      }
      break;
    }
    case 'checkboxes':
    case 'radio_buttons': {
      const type = e.type === 'checkboxes' ? 'checkbox' : 'radio';
      const initial = new Set(
        [...list(e.initial_options), ...(e.initial_option ? [asJson(e.initial_option)] : [])].map((o) => o.value),
      );
      field = `<div id="${name}" class="bk-choices">${list(e.options)
        .map((o, i) => {
          const checked = initial.has(o.value) ? ' checked' : '';
          const description = o.description ? `<div class="bk-hint">${textObject(o.description, ctx)}</div>` : '';
          return `<label class="bk-choice"><input type="${type}" name="${name}" value="${i}"${checked}> ${textObject(o.text, ctx)}${description}</label>`;
        })
        .join('')}</div>`;
      break;
    }
    case 'static_select':
    case 'multi_static_select': {
      const multiple = e.type === 'multi_static_select' ? ' multiple' : '';
      const initial = new Set(
        [...list(e.initial_options), ...(e.initial_option ? [asJson(e.initial_option)] : [])].map((o) => o.value),
      );
      const options = selectOptions(e)
        .map(
          (o, i) =>
            `<option value="${i}"${initial.has(o.value) ? ' selected' : ''}>${escapeHtml(asJson(o.text).text)}</option>`,
        )
        .join('');
      const none = multiple ? '' : `<option value="">${escapeHtml(asJson(e.placeholder).text ?? 'Choose…')}</option>`;
      field = `<select id="${name}" name="${name}"${multiple}${required}>${none}${options}</select>`;
      break;
    }
    case 'datepicker':
      field = `<input id="${name}" name="${name}" type="date" value="${escapeHtml(e.initial_date ?? '')}"${required}>`;
      break;
    default:
      field = `<span class="bk-unsupported">[${escapeHtml(e.type)}: not supported in the demo page]</span>`;
  }
  return `<div class="bk-input">${label}${field}${hint}<div class="bk-error" data-error-for="${index}"></div></div>`;
}

/** A select's options, flattening option groups the way Slack lists them. */
export function selectOptions(e: Json): Json[] {
  return [...list(e.options), ...list(e.option_groups).flatMap((g) => list(g.options))];
}

/** A legacy attachment (Alertmanager's Slack integration sends these): colour bar, title, text, fields, footer. */
export function renderAttachment(a: Json, ctx: BlockContext): string {
  const color = attachmentColor(a.color);
  // Slack formats attachment text as mrkdwn in practice (Alertmanager sets mrkdwn_in for text and pretext anyway).
  const md = (value: unknown) => (typeof value === 'string' ? renderMrkdwn(value, ctx) : '');
  const titleUrl = typeof a.title_link === 'string' ? safeUrl(a.title_link) : undefined;
  const title =
    typeof a.title === 'string'
      ? titleUrl
        ? `<a href="${escapeHtml(titleUrl)}" target="_blank" rel="noopener noreferrer">${renderSlackPlain(a.title)}</a>`
        : renderSlackPlain(a.title)
      : '';
  const parts = [
    a.pretext ? `<div class="att-pretext">${md(a.pretext)}</div>` : '',
    a.author_name ? `<div class="att-author">${renderSlackPlain(a.author_name)}</div>` : '',
    title ? `<div class="att-title">${title}</div>` : '',
    a.text ? `<div class="att-text">${md(a.text)}</div>` : '',
    list(a.fields).length
      ? `<div class="att-fields">${list(a.fields)
          .map(
            (f) =>
              `<div class="${f.short ? 'short' : ''}"><div class="att-field-title">${renderSlackPlain(f.title)}</div><div>${md(f.value)}</div></div>`,
          )
          .join('')}</div>`
      : '',
    renderBlocks(a.blocks, ctx),
    typeof a.image_url === 'string' && safeUrl(a.image_url)
      ? `<img class="att-image" src="${escapeHtml(safeUrl(a.image_url))}" alt="">`
      : '',
    a.footer ? `<div class="att-footer">${renderSlackPlain(a.footer)}</div>` : '',
  ].join('');
  return `<div class="attachment" style="border-left-color:${color}">${parts || renderSlackPlain(a.fallback)}</div>`;
}

/** Slack's named colours, or a hex colour; anything else falls back to grey (the value goes into a style). */
export function attachmentColor(color: unknown): string {
  const named: Record<string, string> = { good: '#2eb67d', warning: '#ecb22e', danger: '#e01e5a' };
  if (typeof color !== 'string') return '#dddddd';
  if (named[color]) return named[color];
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  return hex ? `#${hex[1]}` : '#dddddd';
}

/** Treats anything as an object to read from; non-objects read as empty. */
export function asJson(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

/** Treats anything as a list of objects; non-arrays read as empty. */
export function list(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(asJson) : [];
}
